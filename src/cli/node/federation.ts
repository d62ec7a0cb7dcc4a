import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { runFederationCluster } from '../../node/federation-cluster.js';
import { knownTask } from '../../sim/federation/sim-network.js';
import { durationFlag, floatOption, intOption } from '../options.js';
import { printJson } from '../output.js';

interface FederationClusterFlags {
  members: number;
  flippers: number;
  duration: number;
  sync: number;
  learnPerSync: number;
  loss: number;
  crash: boolean;
  hostile: number;
  quiet?: boolean;
}

/** `elex federation-cluster`: the federated Q-learning protocol on real UDP sockets and wall-clock timers. */
export function register(program: Command): void {
  program
    .command('federation-cluster')
    .description(
      'start N federation members (FederatedQTable, the protocol `elex simulate federation` evaluates) on ' +
        '127.0.0.1 UDP in this process, learning a known task (8 entries, Q* = reward) on wall-clock timers, ' +
        'with reward flippers among them; crash the aggregator at a third of the run and restart it from ' +
        'its saved vote at half; prints JSON: election and re-election times, aggregators per term, the ' +
        'honest error to Q* over time, the flippers’ trust, refusals and UDP bytes',
    )
    .option('--members <n>', 'members of the category', intOption(3, 64), 5)
    .option(
      '--flippers <n>',
      'Byzantine members that learn negated rewards (the last ids)',
      intOption(0, 21),
      1,
    )
    .addOption(
      durationFlag('--duration <time>', 'how long the members run', '20s', { positive: true, timer: true }),
    )
    .addOption(
      durationFlag('--sync <time>', 'sync_interval_ms of every member', '200ms', {
        positive: true,
        timer: true,
      }),
    )
    .option('--learn-per-sync <n>', 'interactions each member learns before each sync', intOption(0, 1000), 3)
    .option('--loss <p>', 'fraction of each member’s outgoing datagrams dropped', floatOption(0, 0.9), 0)
    .option('--no-crash', 'do not crash and restart the aggregator')
    .option(
      '--hostile <n>',
      'datagrams of random bytes sent to each member at a quarter',
      intOption(0, 10_000),
      50,
    )
    .option('--quiet', 'no progress on stderr')
    .addHelpText(
      'after',
      '\nExample:\n  elex federation-cluster --members 7 --flippers 2 --duration 30s --loss 0.05',
    )
    .action(async (o: FederationClusterFlags) => {
      if (3 * o.flippers >= o.members)
        throw new ElexError('E_USAGE', `--flippers must be under a third of --members (${o.members})`);
      const report = await runFederationCluster({
        members: o.members,
        flippers: o.flippers,
        task: knownTask(),
        durationMs: o.duration,
        syncIntervalMs: o.sync,
        learnPerSync: o.learnPerSync,
        loss: o.loss,
        crashAggregator: o.crash,
        hostileDatagrams: o.hostile,
        progress: o.quiet ? undefined : (l) => process.stderr.write(`elex federation-cluster: ${l}\n`),
      });
      printJson(report);
    });
}
