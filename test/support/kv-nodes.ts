import { ElexError } from '../../src/core/index.js';
import type { KvNode } from '../../src/node/kv-node.js';

/** The node that leads, polled every 20 ms for up to 10 s. */
export async function leaderOf(nodes: readonly KvNode[]): Promise<KvNode> {
  const end = Date.now() + 10_000;
  for (;;) {
    const l = nodes.find((n) => n.status().role === 'leader');
    if (l !== undefined) return l;
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Retries while no leader is known (E_NO_LEADER), as a client would. */
export async function retrying<T>(f: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await f();
    } catch (e) {
      if (!(e instanceof ElexError) || e.code !== 'E_NO_LEADER' || i > 200) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
