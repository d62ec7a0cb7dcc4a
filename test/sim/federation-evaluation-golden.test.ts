/**
 * The Byzantine evaluation pinned as readable text (etcd's `testdata` style), one line per run: every attack
 * on FrozenLake 10/3 and the random MDP 20/6 under the default rule and the plain merge's two rows, and
 * elex-query 10/3 under every rule, on short budgets. A line holds the honest ρ (and whether every honest
 * agent has it), the largest |Q − Q*|, greedy agreement, episodes to ρ 0.9, stored non-finite values, the
 * refusals by code and every agent's final trust ratio. A change meant to be a refactor or a speed-up must
 * leave the file byte-identical; one that changes behaviour shows up in review as a diff of these lines.
 * `UPDATE_GOLDEN=1 npx vitest run test/sim/federation-evaluation-golden.test.ts` rewrites it (then read the
 * diff before committing it).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RuleName } from '../../src/learning/index.js';
import { RULE_NAMES } from '../../src/learning/index.js';
import {
  ATTACK_NAMES,
  type AttackName,
  campaignRunConfig,
  campaignSeed,
  type MdpName,
  runFederation,
} from '../../src/sim/federation/index.js';

const FILE = new URL('./testdata/federation-evaluation.txt', import.meta.url);

const fx = (x: number, d: number) => (Object.is(x, -0) ? 0 : x).toFixed(d);

function line(
  mdp: MdpName,
  agents: number,
  byzantine: number,
  episodes: number,
  attack: AttackName,
  rule: RuleName,
) {
  const r = runFederation(
    campaignRunConfig(mdp, { agents, byzantine, attack, rule, episodes, seed: campaignSeed(1, 0) }),
  );
  const same = r.rho.every((x) => x === r.rho[0]);
  const refused = Object.entries(r.refused)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`);
  const trust = r.trustRatios.map((t) => (t === null ? '-' : fx(t, 3))).join(' ');
  return [
    `  ${attack} ${rule}: rho ${fx(r.rho[0], 6)}${same ? '' : ' (honest agents differ)'} qerr ${fx(r.qErrorInf, 6)}`,
    ` agree ${fx(r.greedyAgreement, 4)} ep0.9 ${r.episodesTo09 ?? 'never'} nonfinite ${r.nonFinite}`,
    ` refused ${refused.join(', ') || 'none'}; trust ${trust}`,
  ].join('');
}

function render(): string {
  const out: string[] = [];
  for (const [mdp, agents, byzantine, episodes] of [
    ['frozen-lake', 10, 3, 600],
    ['random', 20, 6, 300],
  ] as const) {
    out.push(`${mdp} ${agents}/${byzantine}, ${episodes} episodes, campaign seed 0 of root 1`);
    for (const attack of ATTACK_NAMES)
      out.push(line(mdp, agents, byzantine, episodes, attack, 'trimmed-mean'));
    for (const attack of ['none', 'visit-inflation'] as const) {
      out.push(line(mdp, agents, byzantine, episodes, attack, 'visit-weighted'));
    }
    out.push('');
  }
  out.push('elex-query 10/3, 200 episodes, campaign seed 0 of root 1');
  for (const rule of RULE_NAMES) {
    for (const attack of ['none', 'visit-inflation', 'sign-flip', 'alie', 'stale-replay'] as const) {
      out.push(line('elex-query', 10, 3, 200, attack, rule));
    }
  }
  return `${out.join('\n')}\n`;
}

describe('the Byzantine evaluation (golden file)', () => {
  it('matches test/sim/testdata/federation-evaluation.txt', () => {
    const text = render();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, text);
    expect(text).toBe(readFileSync(FILE, 'utf8'));
  });
});
