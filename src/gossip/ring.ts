/**
 * The monitoring ring: every known member at the position hash(name). A member monitors the next
 * `monitors` live members clockwise (its successors); the monitors of m are m's predecessors. Everyone can
 * compute everyone's monitors from its own view, which is how suspicions find their co-monitors.
 */
export class Ring {
  private readonly pos: number[] = [];
  private readonly names: string[] = [];

  get size(): number {
    return this.names.length;
  }

  private indexOf(p: number, name: string): number {
    let lo = 0;
    let hi = this.pos.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.pos[mid] - p || (this.names[mid] < name ? -1 : this.names[mid] > name ? 1 : 0);
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  add(name: string, p: number): void {
    const i = this.indexOf(p, name);
    if (this.names[i] === name) return;
    this.pos.splice(i, 0, p);
    this.names.splice(i, 0, name);
  }

  remove(name: string, p: number): void {
    const i = this.indexOf(p, name);
    if (this.names[i] !== name) return;
    this.pos.splice(i, 1);
    this.names.splice(i, 1);
  }

  /** Up to `k` members after (dir = 1) or before (dir = -1) `name` for which `live` holds. */
  walk(name: string, p: number, k: number, dir: 1 | -1, live: (n: string) => boolean): string[] {
    const out: string[] = [];
    const n = this.names.length;
    if (n === 0) return out;
    const start = this.indexOf(p, name);
    const self = this.names[start] === name;
    let i = dir === 1 ? (self ? start + 1 : start) : start - 1;
    for (let step = 0; step < n && out.length < k; step++, i += dir) {
      const name2 = this.names[((i % n) + n) % n];
      if (name2 !== name && live(name2)) out.push(name2);
    }
    return out;
  }
}
