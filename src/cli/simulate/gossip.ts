import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import {
  CHURN_STEP_MS,
  runChurn,
  runCrash,
  runDissemination,
  runPartition,
  runSteady,
} from '../../sim/gossip/index.js';
import { choiceOption, durationFlag, floatOption, intOption } from '../options.js';
import { printJson } from '../output.js';
import { progress } from '../progress.js';

const SCENARIOS = ['dissemination', 'crash', 'steady', 'pauses', 'partition', 'churn'] as const;
type Scenario = (typeof SCENARIOS)[number];

/** The scenario-specific options, and the scenarios that use each (the others would silently ignore it). */
const USED_BY: Record<string, readonly Scenario[]> = {
  loss: ['dissemination', 'steady', 'pauses', 'churn'],
  trials: ['dissemination', 'crash'],
  duration: ['steady', 'pauses', 'churn'],
  pauseMs: ['pauses'],
  split: ['partition'],
  partitionMs: ['partition'],
};
const FLAG: Record<string, string> = { pauseMs: '--pause-ms', partitionMs: '--partition-ms' };

interface GossipCliOptions {
  members: number;
  seed: number;
  scenario: Scenario;
  loss: number;
  trials: number;
  duration: number;
  pauseMs: number;
  split: number;
  partitionMs: number;
  fanout: number;
  monitors: number;
  json?: boolean;
  quiet?: boolean;
}

/**
 * `elex simulate gossip`: the gossip core at swarm scale (607 members, fanout 3, 1 s) in the deterministic
 * simulator. Same seed and options → byte-identical JSON; wall-clock figures only under `perf`.
 */
export function register(simulate: Command): void {
  simulate
    .command('gossip')
    .description('membership, phi-accrual failure detection and dissemination among N simulated members')
    .option('--members <n>', 'members', intOption(2, 5000), 607)
    .option('--seed <n>', 'root seed', intOption(0, 2 ** 31 - 1), 1)
    .option('--scenario <s>', SCENARIOS.join(' | '), choiceOption(SCENARIOS), 'dissemination')
    .option('--loss <p>', 'datagram loss probability on every link', floatOption(0, 0.9), 0)
    .option('--trials <n>', 'trials (dissemination, crash)', intOption(1, 100_000), 100)
    .addOption(
      durationFlag(
        '--duration <d>',
        'measured simulated time (steady, pauses; churn: whole 2 s steps)',
        '10m',
        { positive: true },
      ),
    )
    .addOption(durationFlag('--pause-ms <d>', 'pause length (pauses)', '2s', { positive: true }))
    .option('--split <f>', 'fraction on the small side (partition)', floatOption(0.01, 0.5), 0.5)
    .addOption(durationFlag('--partition-ms <d>', 'partition length (partition)', '60s'))
    .option('--fanout <n>', 'gossip fanout', intOption(1, 16), 3)
    .option('--monitors <n>', 'monitors per member', intOption(1, 32), 9)
    .option('--json', 'print the report as one JSON object on stdout (the default)')
    .option('--quiet', 'no progress on stderr')
    .action(function (this: Command, o: GossipCliOptions) {
      for (const [name, scenarios] of Object.entries(USED_BY)) {
        if (this.getOptionValueSource(name) !== 'cli' || scenarios.includes(o.scenario)) continue;
        const flag = FLAG[name] ?? `--${name}`;
        throw new ElexError(
          'E_USAGE',
          `${flag} does not apply to --scenario ${o.scenario} (it applies to ${scenarios.join(', ')})`,
        );
      }
      // Churn acts once per step and runs whole steps: a duration between them ran (and reported) the next one.
      if (o.scenario === 'churn' && o.duration % CHURN_STEP_MS !== 0)
        throw new ElexError(
          'E_USAGE',
          `--duration for churn must be whole ${CHURN_STEP_MS / 1000} s steps (one action each), got ${o.duration} ms`,
        );
      const bar = progress(`simulate gossip ${o.scenario}`, o.quiet);
      const onProgress = (done: number, total: number) => bar.update(done, total);
      const started = performance.now();
      const common = {
        members: o.members,
        seed: o.seed,
        config: { fanout: o.fanout, monitors: o.monitors },
        onProgress,
      };
      let report: Record<string, unknown>;
      let events = 0;
      switch (o.scenario) {
        case 'dissemination':
          report = runDissemination({ ...common, loss: o.loss, trials: o.trials });
          break;
        case 'crash':
          report = runCrash({ ...common, trials: o.trials });
          break;
        case 'steady':
          report = runSteady({ ...common, loss: o.loss, durationMs: o.duration });
          break;
        case 'pauses':
          report = runSteady({ ...common, loss: o.loss, durationMs: o.duration, pauseMs: o.pauseMs });
          break;
        case 'partition':
          report = runPartition({ ...common, split: o.split, partitionMs: o.partitionMs });
          break;
        case 'churn':
          report = runChurn({ ...common, durationMs: o.duration, loss: o.loss });
          break;
      }
      bar.stop();
      events = typeof report.events === 'number' ? report.events : 0;
      printJson({
        ...report,
        fanout: o.fanout,
        monitors: o.monitors,
        perf: { wall_ms: Math.round(performance.now() - started), ...(events ? { events } : {}) },
      });
    });
}
