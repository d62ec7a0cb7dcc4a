/**
 * The federation's election scenarios pinned as readable text (etcd's `testdata` style): who was elected
 * when, each member's final role, term, leader and last aggregate, the refusals by code, the traffic and the
 * trace hash. A refactor that changes no behaviour leaves the file byte-identical; a change that does shows
 * up in review as a diff of these lines. `UPDATE_GOLDEN=1 npx vitest run test/sim/federation-golden.test.ts`
 * rewrites it (then read the diff before committing it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runByzantineScenario } from '../../src/sim/federation/byzantine-members.js';
import { runFederationScenario } from '../../src/sim/federation/sim-network.js';

const FILE = new URL('./testdata/federation-election.txt', import.meta.url);

type Summary = ReturnType<ReturnType<typeof runFederationScenario>['cluster']['summary']>;

const ms = (t: number | null) => (t === null ? 'never' : `${Math.round(t)} ms`);

function members(s: Summary): string[] {
  return s.members.map((m) =>
    m.up
      ? `  ${m.name} ${m.state} term ${m.term} leader ${m.leader ?? '-'} aggregate ${m.aggregate!.join('.')} syncs ${m.syncs} q ${m.q!.join(' ')}`
      : `  ${m.name} down`,
  );
}

function tail(s: Summary): string[] {
  const refusals = Object.entries(s.refusals).map(([k, v]) => `${k} ${v}`);
  const net = s.network;
  const dropped = Object.entries(net.dropped)
    .filter(([, v]) => v > 0)
    .map(([k, v]) => `${k} ${v}`);
  return [
    `  refusals ${refusals.join(', ') || 'none'}`,
    `  network ${net.messages} messages, ${net.bytes} bytes, ${net.delivered} delivered, dropped ${dropped.join(', ') || 'none'}`,
    `  violations ${s.violations} errors ${s.errors} trace ${s.trace_hash}`,
  ];
}

function render(): string {
  const out: string[] = [];
  for (const [seed, n, loss] of [
    [1, 5, 0.02],
    [2, 6, 0.03],
    [3, 7, 0.04],
  ] as const) {
    const r = runFederationScenario({ seed, members: n, loss });
    out.push(
      `honest seed ${seed}, ${n} members, ${loss * 100} % loss; aggregator cut off 20 s, one member crashed`,
    );
    out.push(
      `  elected at ${ms(r.elected)} (term ${r.firstTerm}); during the cut ${r.duringLeader ? `${r.duringLeader.id} term ${r.duringLeader.term}` : 'no aggregator'}; after the heal agreed ${ms(r.agreedAt)}, converged ${ms(r.convergedAt)}; holds ${r.holds}`,
    );
    out.push(...members(r.summary), ...tail(r.summary), '');
  }
  for (const [seed, n, f] of [
    [1, 4, 1],
    [2, 7, 2],
  ] as const) {
    const r = runByzantineScenario({
      seed,
      members: n,
      byzantine: f,
      attacks: ['double-vote', 'term-inflation', 'replay', 'forge', 'reward-flip'],
      loss: 0.02,
    });
    out.push(`byzantine seed ${seed}, ${n} members, ${f} Byzantine (${r.byzantine.join(', ')}), 2 % loss`);
    out.push(
      `  honest agreed ${ms(r.agreedAt)} after the heal; byzantine elected ${r.byzantineElected}; highest honest term ${r.maxHonestTerm}`,
    );
    out.push(...members(r.summary), ...tail(r.summary), '');
  }
  return out.join('\n');
}

describe('federation election scenarios (golden file)', () => {
  it('match test/sim/testdata/federation-election.txt', () => {
    const text = render();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, text);
    expect(text).toBe(readFileSync(FILE, 'utf8'));
  });
});
