import { describe, expect, it } from 'vitest';
import type { GossipEvent } from '../../src/gossip/index.js';
import { summaryOfTrials } from '../../src/sim/gossip/common.js';
import {
  GossipCluster,
  LivenessChecker,
  runChurn,
  runCrash,
  runDissemination,
} from '../../src/sim/gossip/index.js';

// How the scenario reports measure: the start and end events of each figure and the trials it covers.
describe('gossip scenario measurements', () => {
  it('crash: a trial never declared dead everywhere is reported as not reached, not dropped from the percentiles', () => {
    // Suspicions time out after 120 s: no trial ends within the scenario's 60 s limit, but every crash is
    // suspected after ~4 s. Before, both summaries were over the completed trials only: 0 / 0 / 0.
    const r = runCrash({
      members: 10,
      seed: 1,
      trials: 2,
      config: { suspicionMinMs: 120_000, suspicionMaxMs: 120_000 },
    });
    expect(r.undetected_trials).toBe(2);
    expect(r.detection_ms.all_dead).toEqual({ p50: null, p99: null, max: null });
    // The first suspicion happened in both trials: it is measured even though the death never came.
    expect(r.detection_ms.first_suspect.p50).toBeGreaterThan(3000);
    expect(r.detection_ms.first_suspect.max).toBeLessThan(6000);
  });

  it('dissemination: trials that never reach every member rank as not reached in the summaries and the mean', () => {
    // Rounds 100 s apart: a few members gossip within the trial's 60 s (their first round has a random phase),
    // none after, so the key never reaches every member. Before, the summaries were over no trial: 0 / 0 / 0.
    const r = runDissemination({
      members: 10,
      seed: 1,
      trials: 2,
      loss: 0,
      config: { gossipIntervalMs: 100_000 },
    });
    expect(r.incomplete_trials).toBe(2);
    expect(r.rounds.to_100).toEqual({ p50: null, p99: null, max: null });
    expect(r.ms_to_100).toEqual({ p50: null, p99: null, max: null });
    expect(r.mean_rounds_to_100).toBeNull();
  });

  it('one trial in 100 not reached leaves the p99 measured and the max not reached; two, the p99 too', () => {
    const measured = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(summaryOfTrials(measured, 0)).toEqual({ p50: 50, p99: 99, max: 100 });
    expect(summaryOfTrials(measured.slice(0, 99), 1)).toEqual({ p50: 50, p99: 99, max: null });
    expect(summaryOfTrials(measured.slice(0, 98), 2)).toEqual({ p50: 50, p99: null, max: null });
    expect(summaryOfTrials([], 3)).toEqual({ p50: null, p99: null, max: null });
  });

  it('churn: convergence is timed from the last churn action, not from the end of the run', () => {
    // Two actions, at 0 s and 20 s (the rejoin of the member that went out), then 20 s of quiet. Before, the
    // clock started at the end of the run, 20 s after the last action, and read 0 ms.
    const r = runChurn({ members: 20, seed: 3, durationMs: 40_000, everyMs: 20_000 });
    expect(r.leaves + r.crashes).toBe(1);
    expect(r.rejoins).toBe(1);
    expect(r.converge_after_churn_ms).not.toBeNull();
    // A rejoin is not known everywhere in 0 ms: it takes at least a datagram's flight and a gossip exchange.
    expect(r.converge_after_churn_ms!).toBeGreaterThan(0);
    expect(r.converge_after_churn_ms!).toBeLessThan(20_000);
  });
});

describe('LivenessChecker', () => {
  const event = (name: string, status: 'alive' | 'dead', gen: number, inc: number): GossipEvent => ({
    kind: 'member',
    name,
    status,
    previous: status === 'dead' ? 'alive' : 'unknown',
    gen,
    inc,
  });

  it('counts a resurrection only in the life of the observer that saw the death', () => {
    const c = new GossipCluster({ members: 3, seed: 1 });
    c.bootAll();
    const checker = new LivenessChecker(c);
    const x = c.names[2];
    // Member 0 sees x dead at (1, 0), then alive at (1, 0) again: a resurrection.
    checker.onEvent(0, event(x, 'dead', 1, 0));
    checker.onEvent(0, event(x, 'alive', 1, 0));
    expect(checker.resurrections).toBe(1);
    // Member 1 sees x dead, then restarts as a new process that remembers nothing and is told x is alive at
    // (1, 0) by someone who never saw the death: nothing it has seen came back. Before, this counted too.
    checker.onEvent(1, event(x, 'dead', 1, 0));
    c.crash(1);
    c.restart(1);
    checker.onEvent(1, event(x, 'alive', 1, 0));
    expect(checker.resurrections).toBe(1);
  });

  it('counts a member seen at a lower (gen, inc) than before by the same observer life (invariant 3)', () => {
    // Before, invariant 3 was listed as checked by this checker, and nothing checked it.
    const c = new GossipCluster({ members: 3, seed: 1 });
    c.bootAll();
    const checker = new LivenessChecker(c);
    const x = c.names[2];
    checker.onEvent(0, event(x, 'alive', 1, 3));
    checker.onEvent(0, event(x, 'alive', 1, 4));
    checker.onEvent(0, event(x, 'alive', 2, 0));
    expect(checker.regressions).toBe(0);
    checker.onEvent(0, event(x, 'alive', 1, 9));
    checker.onEvent(0, event(x, 'alive', 2, 0));
    expect(checker.regressions).toBe(1);
    // A restarted observer remembers nothing: what it is told first is no regression.
    c.crash(0);
    c.restart(0);
    checker.onEvent(0, event(x, 'alive', 1, 0));
    expect(checker.regressions).toBe(1);
  });
});
