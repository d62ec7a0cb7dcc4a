/**
 * How often the worst-agent criterion passes when nothing is attacked. The honest agents of one
 * evaluated run all hold the consensus (test/sim/honest-agents.test.ts), so a cell's worst agent is its worst
 * seed. This runs the campaign's honest baseline (N − F honest agents, no attacker, the default rule, the
 * campaign's seeds from root `--root`) on `--seeds` seeds and, from those per-seed ρ, estimates by resampling
 * the chance that a run drawn from the same spread passes: 10 seeds whose worst is ≥ 0.90 × the mean of 10
 * other seeds (the baseline's), and whose mean is ≥ 0.95 × it. That is the pass rate of an attack that does no
 * damage but changes the trajectory (any attack whose reports are partly accepted). Prints one JSON object,
 * with each seed's ρ at the six tail checkpoints its figure is the mean of.
 *
 *   npx tsx scripts/federation-worst-seed.ts [--mdp frozen-lake] [--seeds 30] [--root 1] [--draws 20000]
 */
import { SeededRng } from '../src/core/index.js';
import {
  campaignRunConfig,
  campaignSeed,
  MDP_NAMES,
  MEAN_FACTOR,
  runFederation,
  WORST_FACTOR,
} from '../src/sim/federation/index.js';
import { oneOf, parseArgs, positiveInt } from './args.js';

const args = parseArgs(
  'federation-worst-seed',
  "How often the worst-agent criterion passes with no attack: the honest baseline's per-seed ρ, resampled;\n" +
    'prints one JSON object.',
  {
    '--mdp': { value: oneOf(MDP_NAMES), default: 'frozen-lake', help: `the MDP: ${MDP_NAMES.join(', ')}` },
    '--seeds': { value: positiveInt, default: 30, help: 'baseline seeds' },
    '--root': { value: positiveInt, default: 1, help: "root of the campaign's seeds" },
    '--draws': { value: positiveInt, default: 20_000, help: 'resampling draws' },
  },
);
const mdp = args['--mdp'];
const seeds = args['--seeds'];
const root = args['--root'];
const draws = args['--draws'];
const r3 = (x: number) => Math.round(x * 1e3) / 1e3;

const sizes = [];
for (const [agents, byzantine] of [
  [10, 3],
  [20, 6],
] as const) {
  const rho: number[] = [];
  const tails: number[][] = [];
  for (let i = 0; i < seeds; i++) {
    const r = runFederation(
      campaignRunConfig(mdp, { agents: agents - byzantine, byzantine: 0, seed: campaignSeed(root, i) }),
    );
    rho.push(r.rho[0]);
    tails.push(r.rhoTail.map(r3));
    process.stderr.write(`${agents}/${byzantine}: ${i + 1}/${seeds} seeds\r`);
  }
  process.stderr.write('\n');
  const rng = new SeededRng(root).fork(`resample-${agents}`);
  const pick = () => rho[rng.int(rho.length)];
  let worstOk = 0;
  let meanOk = 0;
  for (let d = 0; d < draws; d++) {
    let base = 0;
    for (let k = 0; k < 10; k++) base += pick() / 10;
    let worst = Infinity;
    let mean = 0;
    for (let k = 0; k < 10; k++) {
      const x = pick();
      worst = Math.min(worst, x);
      mean += x / 10;
    }
    if (worst >= WORST_FACTOR * base) worstOk++;
    if (mean >= MEAN_FACTOR * base) meanOk++;
  }
  const mean = rho.reduce((a, b) => a + b, 0) / rho.length;
  sizes.push({
    agents,
    byzantine,
    honest: agents - byzantine,
    rho_per_seed: rho.map(r3),
    // Each seed's ρ at the six checkpoints its figure is the mean of: a low seed is one with dips in its tail.
    tail_per_seed: tails,
    rho_mean: r3(mean),
    rho_min: r3(Math.min(...rho)),
    p_worst_passes: r3(worstOk / draws),
    p_mean_passes: r3(meanOk / draws),
  });
}
console.log(JSON.stringify({ mdp, seeds, root, draws, baselines: sizes }));
