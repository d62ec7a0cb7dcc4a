import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ElexError } from '../../src/core/index.js';
import { Role } from '../../src/raft/index.js';
import { Net } from './harness.js';

type Action =
  | { k: 'propose'; node: number; n: number }
  | { k: 'tick'; n: number }
  | { k: 'deliver'; at: number }
  | { k: 'drop'; at: number }
  | { k: 'dup'; at: number }
  | { k: 'compact'; node: number }
  | { k: 'restart'; node: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('propose' as const),
      node: fc.nat(2),
      n: fc.integer({ min: 1, max: 4 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('tick' as const), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 8, arbitrary: fc.record({ k: fc.constant('deliver' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('drop' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('dup' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('compact' as const), node: fc.nat(2) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('restart' as const), node: fc.nat(2) }) },
);

/**
 * Random schedules on three nodes: messages delivered out of order, dropped and duplicated, proposals on any
 * node, snapshots (16-byte chunks, so every snapshot is a multi-chunk stream) taken at random and every few
 * applied entries, and crash-restarts that lose unsynced writes. Afterwards the network heals; the cluster must agree on one leader and every node must
 * catch up with its commit index (no follower left stuck in probe or snapshot state), and committed entries
 * must match everywhere.
 */
describe('random schedules with loss, reordering and snapshots', () => {
  it('property: after healing every follower catches up, and committed logs agree', () => {
    fc.assert(
      fc.property(fc.array(action, { minLength: 20, maxLength: 250 }), (actions) => {
        const ids = [0, 1, 2];
        const net = new Net(ids, { snapshotChunkBytes: 16 }, 6, 200);
        const committed = new Map<number, number>(); // index -> term, for every entry ever committed
        const leaderOf = new Map<number, number>(); // term -> leader
        const record = () => {
          for (const rn of net.nodes.values()) {
            if (rn.raft.role === Role.Leader) {
              const seen = leaderOf.get(rn.raft.term);
              if (seen === undefined) leaderOf.set(rn.raft.term, rn.raft.id);
              else expect(rn.raft.id, `two leaders in term ${rn.raft.term}`).toBe(seen);
            }
            const log = rn.raft.log;
            for (let i = Math.max(log.offset + 1, 1); i <= log.committed; i++) {
              const t = log.term(i);
              const seen = committed.get(i);
              if (seen === undefined) committed.set(i, t);
              else expect(t, `entry ${i} committed with two terms`).toBe(seen);
            }
          }
        };
        net.elect(0);
        for (const a of actions) {
          const q = net.queue;
          switch (a.k) {
            case 'propose':
              try {
                net.propose(a.node, a.n);
              } catch (e) {
                if (!(e instanceof ElexError)) throw e;
              }
              break;
            case 'tick':
              for (let i = 0; i < a.n; i++) for (const id of ids) net.tick(id);
              break;
            case 'deliver':
              if (q.length > 0) net.step(q.splice(a.at % q.length, 1)[0]);
              break;
            case 'drop':
              if (q.length > 0) q.splice(a.at % q.length, 1);
              break;
            case 'dup':
              if (q.length > 0) q.push(q[a.at % q.length]);
              break;
            case 'compact': {
              const r = net.node(a.node).raft;
              if (r.log.applied > (r.snapshot?.meta.index ?? 0)) net.compact(a.node);
              break;
            }
            case 'restart':
              net.restart(a.node);
              // The term comes back as persisted (a crash loses only unsynced writes).
              expect(net.node(a.node).raft.term).toBe(net.stores.get(a.node)!.hardState()?.term ?? 0);
              break;
          }
          record();
        }
        // Heal: a reliable, in-order network; one more proposal so the leader has something to replicate.
        for (let i = 0; i < 50 && net.leader() === null; i++) net.settle(10); // split votes take a few rounds
        const l = net.leader();
        expect(l, 'a leader after healing').not.toBeNull();
        net.propose(l!, 1);
        net.settle(400);
        record();
        const leaders = ids.filter((id) => net.node(id).raft.role === Role.Leader);
        expect(leaders.length).toBe(1);
        const lead = net.node(leaders[0]).raft;
        expect(lead.log.committed).toBe(lead.log.lastIndex());
        for (const id of ids) {
          const r = net.node(id).raft;
          expect(r.log.committed, `n${id} caught up with n${lead.id}`).toBe(lead.log.committed);
          expect(r.log.applied).toBe(lead.log.committed);
        }
      }),
      { numRuns: 500 },
    );
  });
});
