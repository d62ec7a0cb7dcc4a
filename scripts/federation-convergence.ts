/**
 * The shipped FederatedQTable on the deterministic simulator, honest members only: how fast the category's
 * tables reach Q* on the known task (`knownTask`, Q* = reward), and how many deltas its aggregators refuse.
 * Seeds 1..K; seed s runs 5 + s mod 3 members at 1 + s mod 5 % loss, each member owning 2 of the entries.
 * Prints one JSON object: per checkpoint (virtual seconds), the mean over seeds of the largest |Q − Q*| and
 * of the largest spread between live members, and the refusals by code over all members at the end.
 *
 *   npx tsx scripts/federation-convergence.ts [--seeds 10] [--learn-per-sync 4]
 */
import { FederationSimCluster } from '../src/sim/federation/sim-network.js';
import { parseArgs, positiveInt } from './args.js';

const args = parseArgs(
  'federation-convergence',
  "The shipped federation's honest convergence to Q* on the simulator, seeds 1..N; prints one JSON object.",
  {
    '--seeds': { value: positiveInt, default: 10, help: 'seeds 1..N' },
    '--learn-per-sync': {
      value: positiveInt,
      default: 4,
      help: 'interactions each member learns per sync',
    },
  },
);
const seeds = args['--seeds'];
const learnPerSync = args['--learn-per-sync'];
const checkpoints = [10, 20, 30, 60];
const error = checkpoints.map(() => 0);
const spread = checkpoints.map(() => 0);
const refusals = new Map<string, number>();
for (let seed = 1; seed <= seeds; seed++) {
  const c = new FederationSimCluster({
    seed,
    members: 5 + (seed % 3),
    loss: 0.01 + 0.01 * (seed % 5),
    owners_per_entry: 2,
    learn_per_sync: learnPerSync,
  });
  let at = 0;
  checkpoints.forEach((s, i) => {
    c.sim.runFor(s * 1000 - at);
    at = s * 1000;
    error[i] += c.maxError() / seeds;
    spread[i] += c.maxSpread() / seeds;
  });
  for (const n of c.names) {
    for (const [code, k] of c.table(n)?.refusals ?? []) refusals.set(code, (refusals.get(code) ?? 0) + k);
  }
  process.stderr.write(`seed ${seed}/${seeds}\n`);
}
const r4 = (x: number) => Math.round(x * 1e4) / 1e4;
console.log(
  JSON.stringify({
    seeds,
    learn_per_sync: learnPerSync,
    checkpoints_s: checkpoints,
    mean_max_error: error.map(r4),
    mean_max_spread: spread.map(r4),
    refusals: Object.fromEntries([...refusals].sort()),
  }),
);
