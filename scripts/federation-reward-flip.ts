/**
 * The shipped FederatedQTable against reward flippers on the deterministic simulator: the Byzantine
 * scenario of `runByzantineScenario` (elect; the aggregator cut off for 20 s while an honest member crashes;
 * heal; 20 s more) with members that learn on the negated reward and report honestly formatted deltas at
 * their own sync times, against the same scenario without the attack. Prints one JSON object: per category
 * size, the honest members' largest |Q − Q*| at the end, per seed, with and without the flippers.
 *
 *   npx tsx scripts/federation-reward-flip.ts [--seeds 6]
 */
import { runByzantineScenario } from '../src/sim/federation/byzantine-members.js';
import { parseArgs, positiveInt } from './args.js';

const { '--seeds': seeds } = parseArgs(
  'federation-reward-flip',
  'The shipped federation against reward flippers, with and without the attack; prints one JSON object.',
  { '--seeds': { value: positiveInt, default: 6, help: 'seeds 1..N per category size' } },
);
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
const sizes = [] as Array<{ members: number; flippers: number; none: number[]; reward_flip: number[] }>;
for (const members of [4, 5, 7]) {
  const flippers = members === 7 ? 2 : 1;
  const row = { members, flippers, none: [] as number[], reward_flip: [] as number[] };
  for (let seed = 1; seed <= seeds; seed++) {
    for (const attacks of [[], ['reward-flip']] as const) {
      const r = runByzantineScenario({ seed, members, byzantine: flippers, attacks, loss: 0.02 });
      (attacks.length === 0 ? row.none : row.reward_flip).push(r4(r.maxError));
    }
  }
  sizes.push(row);
  process.stderr.write(`${members} members done\n`);
}
console.log(JSON.stringify({ seeds, loss: 0.02, max_abs_q_error: sizes }));
