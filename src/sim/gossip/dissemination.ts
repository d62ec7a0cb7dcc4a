import { Channel } from '../../gossip/index.js';
import { type CommonOptions, formCluster, rounds, summaryOfTrials, THEORY } from './common.js';

export interface DisseminationOptions extends CommonOptions {
  loss: number;
  trials: number;
}

/**
 * One new key, written by a random member, spreading by anti-entropy alone (keys never ride on rumors):
 * rounds until 50 %, 99 % and 100 % of the members hold it. A round is one gossip interval since the write.
 * A trial that has not reached a mark within 60 s counts in that mark's summary as not reached (`null` where
 * a percentile falls on it), and `mean_rounds_to_100` is `null` if any trial did not reach every member.
 */
export function runDissemination(o: DisseminationOptions) {
  const { cluster, formedMs } = formCluster(o);
  const sim = cluster.sim;
  sim.setDefaultLink({ loss: o.loss });
  sim.runFor(5000);
  const interval = o.config?.gossipIntervalMs ?? 1000;
  const n = cluster.size;
  const rng = sim.rng('dissemination');
  const to50: number[] = [];
  const to99: number[] = [];
  const to100: number[] = [];
  const ms100: number[] = [];
  let incomplete = 0;
  let current = '';
  let have = 0;
  let t0 = 0;
  const marks = [Math.ceil(0.5 * n), Math.ceil(0.99 * n), n];
  const reached: number[] = [];
  cluster.onEvent = (_obs, e) => {
    if (e.kind !== 'key' || e.key !== current) return;
    have++;
    for (let k = 0; k < marks.length; k++) if (have === marks[k]) reached[k] = sim.now - t0;
  };
  for (let t = 0; t < o.trials; t++) {
    const writer = rng.int(n);
    current = `d${t}`;
    have = 0;
    reached.length = 0;
    t0 = sim.now;
    cluster.nodes[writer]!.set(Channel.state, current, new Uint8Array(16).fill(t & 0xff));
    const done = cluster.runUntil(() => have >= n, 60_000, 50);
    if (done === null) incomplete++;
    // Marks reached before the limit count even when the trial did not reach every member.
    if (reached[0] !== undefined) to50.push(rounds(reached[0], interval));
    if (reached[1] !== undefined) to99.push(rounds(reached[1], interval));
    if (done !== null) {
      to100.push(rounds(reached[2], interval));
      ms100.push(reached[2]);
    }
    o.onProgress?.(t + 1, o.trials);
    sim.runFor(500 + rng.next() * interval);
  }
  const theory = o.loss >= 0.05 ? THEORY.push_pull.loss_10 : THEORY.push_pull.loss_0;
  return {
    scenario: 'dissemination',
    members: n,
    seed: o.seed,
    loss: o.loss,
    trials: o.trials,
    incomplete_trials: incomplete,
    rounds: {
      to_50: summaryOfTrials(to50, o.trials - to50.length),
      to_99: summaryOfTrials(to99, o.trials - to99.length),
      to_100: summaryOfTrials(to100, incomplete),
    },
    mean_rounds_to_100:
      incomplete > 0
        ? null
        : Number((to100.reduce((a, b) => a + b, 0) / Math.max(1, to100.length)).toFixed(2)),
    ms_to_100: summaryOfTrials(ms100, incomplete),
    theory_push_pull_n593: theory,
    formed_ms: formedMs,
    trace_hash: sim.traceHash(),
  };
}
