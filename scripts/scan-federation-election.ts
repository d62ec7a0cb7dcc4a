/**
 * Seed scan of FederatedQTable's aggregator election on the deterministic simulator (the scenarios of
 * test/sim/federation-sim.test.ts and test/sim/federation-sim-byzantine.test.ts, over many seeds). Prints one
 * JSON object: runs, safety violations, untyped errors, how many converged within the bound after the heal,
 * the slowest, and the seeds that missed.
 *
 *   npx tsx scripts/scan-federation-election.ts [--seeds 200] [--byzantine-seeds 25] [--bound-ms 60000]
 */
import { runByzantineScenario } from '../src/sim/federation/byzantine-members.js';
import { runFederationScenario } from '../src/sim/federation/sim-network.js';
import { parseArgs, positiveInt } from './args.js';

const args = parseArgs(
  'scan-federation-election',
  "Seed scan of the federation's aggregator election, honest and Byzantine; prints one JSON object.",
  {
    '--seeds': { value: positiveInt, default: 200, help: 'honest runs, seeds 1..N' },
    '--byzantine-seeds': { value: positiveInt, default: 25, help: 'Byzantine runs per size' },
    '--bound-ms': { value: positiveInt, default: 60_000, help: 'convergence bound after the heal' },
  },
);
const seeds = args['--seeds'];
const byzSeeds = args['--byzantine-seeds'];
const boundMs = args['--bound-ms'];

const honest = {
  runs: 0,
  safety_violations: 0,
  errors: 0,
  converged: 0,
  slowest_ms: 0,
  missed: [] as string[],
};
for (let seed = 1; seed <= seeds; seed++) {
  const members = 5 + (seed % 3);
  const loss = 0.01 + 0.01 * (seed % 5);
  const r = runFederationScenario({ seed, members, loss, boundMs });
  honest.runs++;
  honest.safety_violations += r.cluster.violations.length;
  honest.errors += r.cluster.errors.length;
  if (r.convergedAt === null)
    honest.missed.push(`seed ${seed} (${members} members, ${Math.round(loss * 100)} % loss)`);
  else {
    honest.converged++;
    honest.slowest_ms = Math.max(honest.slowest_ms, Math.round(r.convergedAt));
  }
  if (seed % 25 === 0) process.stderr.write(`scan: ${seed}/${seeds} honest runs\n`);
}
const byzantine = { runs: 0, safety_violations: 0, errors: 0, agreed: 0, missed: [] as string[] };
for (const members of [4, 5, 7]) {
  for (let seed = 1; seed <= byzSeeds; seed++) {
    const r = runByzantineScenario({
      seed,
      members,
      byzantine: members === 7 ? 2 : 1,
      attacks: ['double-vote', 'term-inflation', 'replay', 'forge', 'reward-flip'],
      loss: 0.01 + 0.01 * (seed % 3),
      boundMs,
    });
    byzantine.runs++;
    byzantine.safety_violations += r.cluster.violations.length;
    byzantine.errors += r.cluster.errors.length;
    if (r.agreedAt === null) byzantine.missed.push(`${members} members, seed ${seed}`);
    else byzantine.agreed++;
  }
  process.stderr.write(`scan: byzantine ${members} members done\n`);
}
console.log(JSON.stringify({ bound_ms: boundMs, honest, byzantine }, null, 2));
