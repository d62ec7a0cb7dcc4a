/**
 * A linearizability checker for the key-value history, in the manner of Porcupine: the history is split
 * per key (single-key operations compose: P-compositionality), and each part is searched with the
 * Wing–Gong algorithm as improved by Lowe, memoizing (linearized set, model state) pairs already explored.
 *
 * Operations that never got a response may or may not have taken effect: their return time is +∞, so they
 * can be linearized at any point after their call, including "after everything" (no effect observed).
 */
export type KvOpKind = 'put' | 'delete' | 'cas' | 'get';

export interface HistoryOp {
  kind: KvOpKind;
  key: string;
  /** put/cas: the new value. */
  value: string | null;
  /** cas: the expected value. */
  expected: string | null;
  call: number;
  /** Infinity when no response arrived. */
  ret: number;
  /** The response: `ok` (cas) and the value observed (previous value for writes, value read for get). */
  ok: boolean;
  out: string | null;
}

export interface LinearizabilityResult {
  ok: boolean;
  /** Key whose history could not be linearized. */
  key?: string;
  /** The search hit its budget (counted as a failure: we could not prove it). */
  exhausted?: boolean;
}

/** Model step: returns the new state, or undefined when `op`'s response is impossible from `state`. */
function step(state: string | null, op: HistoryOp): string | null | undefined {
  const pending = op.ret === Number.POSITIVE_INFINITY;
  switch (op.kind) {
    case 'put':
      if (!pending && op.out !== state) return undefined;
      return op.value;
    case 'delete':
      if (!pending && op.out !== state) return undefined;
      return null;
    case 'cas': {
      const match = state === op.expected;
      if (!pending && (op.ok !== match || op.out !== state)) return undefined;
      return match ? op.value : state;
    }
    case 'get':
      return op.out === state ? state : undefined;
  }
}

interface Node {
  op: number;
  call: boolean;
  /** For a call: its return node. */
  match: Node | null;
  prev: Node | null;
  next: Node | null;
}

/**
 * Drops the operations that cannot matter: incomplete gets, and incomplete puts and CASes whose value no
 * completed operation observed (as its `out`) and no CAS expects, repeated until none is left.
 *
 * Such a write may as well never have taken effect. In a linearization where it does, the state right after it
 * is its value; the next completed operation would report that value, so only incomplete operations come
 * between it and the next completed one: CASes, which fail (none expects the value), then a put or a delete
 * that overwrites it (or nothing: the end). Without the write, the same order with those failed CASes moved to
 * the end (an incomplete operation may land anywhere after its call) explains every response. Each such write
 * doubled the search (it exhausted its budget on linearizable histories with a few dozen of them: writes
 * given up after their session expired).
 */
function relevant(ops: readonly HistoryOp[]): HistoryOp[] {
  let hist = ops.filter((o) => !(o.kind === 'get' && o.ret === Number.POSITIVE_INFINITY));
  for (;;) {
    const observed = new Set<string | null>();
    const expected = new Set<string | null>();
    for (const o of hist) {
      if (o.ret !== Number.POSITIVE_INFINITY) observed.add(o.out);
      if (o.kind === 'cas') expected.add(o.expected);
    }
    const kept = hist.filter(
      (o) =>
        o.ret !== Number.POSITIVE_INFINITY ||
        (o.kind !== 'put' && o.kind !== 'cas') ||
        o.value === null ||
        observed.has(o.value) ||
        expected.has(o.value),
    );
    if (kept.length === hist.length) return hist;
    hist = kept;
  }
}

/** Checks one key's history. `budget` bounds the number of search steps. */
export function checkKey(ops: readonly HistoryOp[], budget = 2_000_000): { ok: boolean; exhausted: boolean } {
  const hist = relevant(ops);
  const n = hist.length;
  if (n === 0) return { ok: true, exhausted: false };
  const events: Array<{ t: number; op: number; call: boolean }> = [];
  for (let i = 0; i < n; i++) {
    events.push({ t: hist[i].call, op: i, call: true });
    events.push({ t: hist[i].ret, op: i, call: false });
  }
  // At equal times calls come first: the lenient reading of concurrent-at-the-same-instant.
  events.sort((a, b) => a.t - b.t || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Node = { op: -1, call: false, match: null, prev: null, next: null };
  let tail = head;
  const calls: Node[] = new Array(n);
  const rets: Node[] = new Array(n);
  for (const ev of events) {
    const node: Node = { op: ev.op, call: ev.call, match: null, prev: tail, next: null };
    tail.next = node;
    tail = node;
    if (ev.call) calls[ev.op] = node;
    else rets[ev.op] = node;
  }
  for (let i = 0; i < n; i++) calls[i].match = rets[i];

  const lift = (c: Node) => {
    c.prev!.next = c.next;
    if (c.next) c.next.prev = c.prev;
    const r = c.match!;
    r.prev!.next = r.next;
    if (r.next) r.next.prev = r.prev;
  };
  const unlift = (c: Node) => {
    const r = c.match!;
    r.prev!.next = r;
    if (r.next) r.next.prev = r;
    c.prev!.next = c;
    if (c.next) c.next.prev = c;
  };

  const words = Math.ceil(n / 32);
  const bits = new Uint32Array(words);
  const cache = new Set<string>();
  const stack: Array<{ node: Node; state: string | null }> = [];
  let state: string | null = null;
  let entry = head.next;
  let steps = 0;
  while (head.next !== null) {
    if (++steps > budget) return { ok: false, exhausted: true };
    if (entry === null) return { ok: false, exhausted: false };
    if (entry.call) {
      const next = step(state, hist[entry.op]);
      if (next !== undefined) {
        bits[entry.op >> 5] |= 1 << (entry.op & 31);
        const key = `${bits.join(',')}|${next === null ? '\u0000' : next}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ node: entry, state });
          state = next;
          lift(entry);
          entry = head.next;
          continue;
        }
        bits[entry.op >> 5] &= ~(1 << (entry.op & 31));
      }
      entry = entry.next;
    } else {
      // A return we cannot move past: backtrack.
      const top = stack.pop();
      if (top === undefined) return { ok: false, exhausted: false };
      state = top.state;
      bits[top.node.op >> 5] &= ~(1 << (top.node.op & 31));
      unlift(top.node);
      entry = top.node.next;
    }
  }
  return { ok: true, exhausted: false };
}

/** Checks a whole history, key by key (keys in sorted order, so the first failure reported is stable). */
export function checkHistory(ops: readonly HistoryOp[], budget?: number): LinearizabilityResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const o of ops) {
    let l = byKey.get(o.key);
    if (l === undefined) {
      l = [];
      byKey.set(o.key, l);
    }
    l.push(o);
  }
  for (const key of [...byKey.keys()].sort()) {
    const r = checkKey(byKey.get(key)!, budget);
    if (!r.ok) return { ok: false, key, exhausted: r.exhausted };
  }
  return { ok: true };
}
