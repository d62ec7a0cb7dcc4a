import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { checkControlPlane } from '../../src/node/coordinator-cluster.js';
import { type ClientCommand, CoordinatorNode } from '../../src/node/coordinator-node.js';
import { freePorts } from '../../src/node/processes.js';
import type { Address } from '../../src/node/tcp-transport.js';

const catalog = defaultCatalog();
const root = mkdtempSync(join(tmpdir(), 'elex-coord-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const running: CoordinatorNode[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.close()));
});

async function coordinators(size: number): Promise<CoordinatorNode[]> {
  const ports = await freePorts(size);
  const cluster = new Map<number, Address>(ports.map((port, i) => [i + 1, { host: '127.0.0.1', port }]));
  const base = join(root, `c${dirs++}`);
  for (const id of cluster.keys())
    running.push(await CoordinatorNode.start({ id, cluster, catalog, dataDir: join(base, `n${id}`) }));
  const end = Date.now() + 10_000;
  while (!running.some((n) => n.status().role === 'leader')) {
    if (Date.now() > end) throw new Error('no leader');
    await new Promise((r) => setTimeout(r, 20));
  }
  return [...running];
}

/** Retries while no leader is known (nothing was proposed, so a retry cannot apply twice). */
async function command(n: CoordinatorNode, c: ClientCommand) {
  for (let i = 0; ; i++) {
    try {
      return await n.command(c);
    } catch (e) {
      if (!(e instanceof ElexError) || e.code !== 'E_NO_LEADER' || i > 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

const RSI = catalog.resolve('RSI');

describe('CoordinatorNode: the control plane on real sockets and disks', () => {
  it('activates a feature with its prerequisites through a follower; every coordinator reads the same', async () => {
    const nodes = await coordinators(3);
    const follower = nodes.find((n) => n.status().role !== 'leader')!;
    const r = await command(follower, { op: 'activate', feature: RSI.id, with_prerequisites: true });
    expect(r.ok, JSON.stringify(r)).toBe(true);
    for (const n of nodes) {
      const { index, value } = await n.read((m) => ({
        rsi: m.isActive(RSI.id),
        prerequisites: RSI.requires.every((p) => m.isActive(p)),
      }));
      expect(value).toEqual({ rsi: true, prerequisites: true });
      expect(index).toBeGreaterThan(0);
    }
  });

  it('of two conflicting activations sent at once to different coordinators, exactly one wins', async () => {
    const nodes = await coordinators(3);
    const a = catalog.resolve('FAJ_121_0486');
    const b = catalog.get(a.conflicts[0])!;
    const [ra, rb] = await Promise.all([
      command(nodes[0], { op: 'activate', feature: a.id, with_prerequisites: true }),
      command(nodes[1], { op: 'activate', feature: b.id, with_prerequisites: true }),
    ]);
    expect([ra.ok, rb.ok].filter(Boolean)).toHaveLength(1);
    const loser = ra.ok ? rb : ra;
    expect(loser).toMatchObject({ ok: false, code: 'CONFLICT' });
    const views = await Promise.all(nodes.map((n) => n.read((m) => [m.isActive(a.id), m.isActive(b.id)])));
    for (const v of views) expect(v.value).toEqual([ra.ok, rb.ok]);
  });

  it('refuses a malformed command before proposing it', async () => {
    const [n] = await coordinators(1);
    await expect(n.command({ op: 'activate', feature: '' } as ClientCommand)).rejects.toMatchObject({
      code: 'E_BAD_COMMAND',
    });
  });
});

describe('checkControlPlane: the final-state invariants elex cluster --app coordinator checks', () => {
  const a = catalog.resolve('FAJ_121_0486');
  const b = catalog.get(a.conflicts[0])!;
  const chain = [...RSI.requires, RSI.id];
  const view = (id: number, active: string[] | null, applied = 10) => ({ id, active, applied });

  it('holds for agreeing views that respect prerequisites and conflicts', () => {
    const r = checkControlPlane(
      catalog,
      [view(1, [...chain, a.id]), view(2, [a.id, ...chain])],
      new Set([RSI.id]),
    );
    expect(r.violations).toEqual([]);
    expect(r.agree).toBe(true);
  });

  it('names each broken invariant', () => {
    // Two replicas at the same applied index with different states: State Machine Safety is broken.
    expect(checkControlPlane(catalog, [view(1, [a.id]), view(2, [b.id])], new Set()).violations).toEqual([
      'coordinators 1 and 2 differ at applied index 10',
    ]);
    // At different indexes they may differ for a while; if they never meet, that is reported too.
    expect(checkControlPlane(catalog, [view(1, [a.id]), view(2, [], 9)], new Set()).violations).toEqual([
      "coordinators' views did not converge (applied 10, 9)",
    ]);
    expect(checkControlPlane(catalog, [view(1, [a.id, b.id])], new Set()).violations).toEqual([
      `${[a.id, b.id].sort().join(' and ')} both active (they conflict)`,
    ]);
    expect(checkControlPlane(catalog, [view(1, [RSI.id])], new Set()).violations).toHaveLength(
      RSI.requires.length,
    );
    expect(checkControlPlane(catalog, [view(1, [])], new Set([a.id])).violations).toEqual([
      `accepted ${a.id} is not active`,
    ]);
    expect(checkControlPlane(catalog, [view(1, []), view(7, null)], new Set()).violations).toEqual([
      'coordinator 7 gave no linearizable view',
    ]);
  });
});
