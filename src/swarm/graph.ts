/**
 * Graph helpers over the `requires` relation (feature → its direct prerequisites). Shared by the catalogue
 * build script and the loader so both compute exactly the same activation order.
 */

/** A cycle in `requires` (as a path that starts and ends with the same id), or undefined for a DAG. */
export function findCycle(requires: ReadonlyMap<string, readonly string[]>): string[] | undefined {
  const state = new Map<string, 1 | 2>();
  const ids = [...requires.keys()].sort();
  for (const root of ids) {
    if (state.has(root)) continue;
    // Iterative DFS with an explicit path so deep chains cannot overflow the stack.
    const path: string[] = [root];
    const next: number[] = [0];
    state.set(root, 1);
    while (path.length > 0) {
      const u = path[path.length - 1];
      const deps = requires.get(u) ?? [];
      const i = next[next.length - 1];
      if (i >= deps.length) {
        state.set(u, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = i + 1;
      const v = deps[i];
      const s = state.get(v);
      if (s === 1) return [...path.slice(path.indexOf(v)), v];
      if (s === undefined) {
        state.set(v, 1);
        path.push(v);
        next.push(0);
      }
    }
  }
  return undefined;
}

/** Every feature `id` needs, directly or transitively (not including `id`). */
export function prerequisiteClosure(
  requires: ReadonlyMap<string, readonly string[]>,
  id: string,
): Set<string> {
  const seen = new Set<string>();
  const stack = [...(requires.get(id) ?? [])];
  while (stack.length > 0) {
    const v = stack.pop()!;
    if (seen.has(v)) continue;
    seen.add(v);
    for (const w of requires.get(v) ?? []) if (!seen.has(w)) stack.push(w);
  }
  return seen;
}

/**
 * The activation order of `id`: its prerequisite closure in topological order (a prerequisite always before
 * the features that need it), ending with `id` itself. Deterministic: Kahn's algorithm over the closure, taking
 * the smallest ready id first. Assumes a DAG.
 */
export function activationOrder(requires: ReadonlyMap<string, readonly string[]>, id: string): string[] {
  const nodes = prerequisiteClosure(requires, id);
  nodes.add(id);
  const pending = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const n of nodes) {
    const deps = (requires.get(n) ?? []).filter((d) => nodes.has(d));
    pending.set(n, deps.length);
    for (const d of deps) {
      const list = dependents.get(d);
      if (list) list.push(n);
      else dependents.set(d, [n]);
    }
  }
  const ready = [...nodes].filter((n) => pending.get(n) === 0).sort();
  const order: string[] = [];
  while (ready.length > 0) {
    const n = ready.shift()!;
    order.push(n);
    for (const m of dependents.get(n) ?? []) {
      const left = pending.get(m)! - 1;
      pending.set(m, left);
      if (left === 0) {
        // Keep `ready` sorted: insert in place (closures are at most a dozen features).
        let at = 0;
        while (at < ready.length && ready[at] < m) at++;
        ready.splice(at, 0, m);
      }
    }
  }
  return order;
}

/** Length of the longest prerequisite chain ending at `id` (1 for a feature without prerequisites). */
export function chainDepth(
  requires: ReadonlyMap<string, readonly string[]>,
  id: string,
  memo = new Map<string, number>(),
): number {
  const known = memo.get(id);
  if (known !== undefined) return known;
  let d = 1;
  for (const p of requires.get(id) ?? []) d = Math.max(d, 1 + chainDepth(requires, p, memo));
  memo.set(id, d);
  return d;
}
