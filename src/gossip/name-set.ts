/** A set of names with O(1) add, remove and uniform random pick (swap-remove array + index map). */
export class NameSet {
  readonly items: string[] = [];
  private readonly at = new Map<string, number>();

  get size(): number {
    return this.items.length;
  }

  has(name: string): boolean {
    return this.at.has(name);
  }

  add(name: string): void {
    if (this.at.has(name)) return;
    this.at.set(name, this.items.length);
    this.items.push(name);
  }

  delete(name: string): void {
    const i = this.at.get(name);
    if (i === undefined) return;
    const last = this.items.pop()!;
    this.at.delete(name);
    if (last !== name) {
      this.items[i] = last;
      this.at.set(last, i);
    }
  }
}
