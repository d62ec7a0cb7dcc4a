import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Command, Option } from 'commander';
import { ElexError } from '../../core/index.js';
import { defaultCatalog } from '../../node/catalog-file.js';
import { runCoordinatorCluster } from '../../node/coordinator-cluster.js';
import { runLocalCluster } from '../../node/local-cluster.js';
import { LocalProcesses } from '../../node/processes.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

interface ClusterOptions {
  app: 'kv' | 'coordinator';
  nodes?: number;
  writes: number;
  activations: number;
  conflictPairs: number;
  queries: number;
  down: number;
  stall: number;
  gossip: boolean;
  concurrency: number;
  dir?: string;
  kills: number;
  reconfigure?: boolean;
  quiet?: boolean;
}

const ELEX_BIN = fileURLToPath(new URL('../../../bin/elex.js', import.meta.url));

/** `elex cluster`: a local cluster of real processes, a workload, a leader SIGKILL, a check of the outcome. */
export function register(program: Command): void {
  program
    .command('cluster')
    .description(
      'start a local cluster of real processes on 127.0.0.1, run a workload through random members, SIGKILL ' +
        'members along the way (--kills; by default the leader a third of the way in, restarted from its data ' +
        'directory two thirds in), then check the outcome ' +
        'with linearizable reads from every member. --app kv (default): `elex node`s; every acknowledged write ' +
        'must read back everywhere. --app coordinator: `elex coordinator`s (14 by default); activations with ' +
        'prerequisites and races between conflicting features; every replica must hold the same active set, ' +
        'with every accepted activation, every prerequisite and no two conflicting features. Prints JSON; exit ' +
        '1 on any violation',
    )
    .addOption(
      new Option('--app <app>', 'what the processes run').choices(['kv', 'coordinator']).default('kv'),
    )
    .option('--nodes <n>', 'members (default: 3 for kv, 14 for coordinator)', intOption(1, 15))
    .option('--writes <n>', 'kv: writes to issue', intOption(1, 1_000_000), 300)
    .option(
      '--activations <n>',
      'coordinator: features to activate with their prerequisites',
      intOption(0, 593),
      120,
    )
    .option(
      '--conflict-pairs <n>',
      'coordinator: conflicting pairs raced through two coordinators',
      intOption(0, 200),
      20,
    )
    .option(
      '--queries <n>',
      'coordinator: queries after the commands, each checked against the final state',
      intOption(0, 100_000),
      40,
    )
    .option(
      '--down <k>',
      'coordinator: SIGKILL k followers after the commands, not restarted, before the queries (their categories are answered by standby agents)',
      intOption(0, 7),
      0,
    )
    .option(
      '--stall <k>',
      'coordinator: SIGSTOP k more followers before the queries, left hung to the end (connections to them open and hang, so an asker waits out its timeout unless its failure detector suspects them)',
      intOption(0, 7),
      0,
    )
    .option(
      '--no-gossip',
      'coordinator: the coordinators run no gossip failure detector (to compare: a hung coordinator then costs each asker a timeout every few seconds)',
    )
    .option('--concurrency <n>', 'requests in flight at once', intOption(1, 256), 8)
    .option('--dir <dir>', 'keep the data directories here (default: a temporary directory, removed after)')
    .option(
      '--kills <n>',
      'SIGKILLs spread over the workload, alternately the leader and a follower, each victim restarted from its data directory before the next (0: none)',
      intOption(0, 100),
      1,
    )
    .option(
      '--reconfigure',
      'kv: start one spare node outside the configuration, add it as a voter halfway through the writes and remove another voter at three quarters',
    )
    .option('--quiet', 'no progress on stderr')
    .action(async (o: ClusterOptions, cmd: Command) => {
      const nodes = o.nodes ?? (o.app === 'kv' ? 3 : 14);
      // An option the chosen app does not use is refused, not silently ignored.
      const only: Record<string, ClusterOptions['app']> = {
        writes: 'kv',
        activations: 'coordinator',
        conflictPairs: 'coordinator',
        queries: 'coordinator',
        down: 'coordinator',
        stall: 'coordinator',
        gossip: 'coordinator',
        reconfigure: 'kv',
      };
      for (const [key, app] of Object.entries(only))
        if (app !== o.app && cmd.getOptionValueSource(key) === 'cli')
          throw new ElexError(
            'E_USAGE',
            `--${key === 'gossip' ? 'no-gossip' : key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to --app ${app} only`,
          );
      // Refused before the temporary directory exists: a refusal used to leave one behind.
      if (o.kills > 0 && nodes < 3)
        throw new ElexError(
          'E_USAGE',
          `--kills needs at least 3 nodes (a quorum must survive one down); use --kills 0`,
        );
      // The queries take linearizable reads: a quorum must stay up.
      const quorum = Math.floor(nodes / 2) + 1;
      if (o.down + o.stall > nodes - quorum)
        throw new ElexError(
          'E_USAGE',
          `--down ${o.down} and --stall ${o.stall} leave ${nodes - o.down - o.stall} coordinators up: the queries need a quorum of ${quorum} of ${nodes}`,
        );
      const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'elex-cluster-'));
      // Signalled (Ctrl-C, a supervisor): stop the processes it started and remove the temporary directory, then
      // die of the signal as a command does.
      const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
      const onSignal = (sig: NodeJS.Signals) => {
        for (const s of signals) process.removeListener(s, onSignal);
        void LocalProcesses.stopEvery().finally(() => {
          if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
          process.kill(process.pid, sig);
        });
      };
      for (const s of signals) process.once(s, onSignal);
      const progress = o.quiet
        ? undefined
        : (line: string) => process.stderr.write(`elex cluster: ${line}\n`);
      try {
        if (o.app === 'kv') {
          const report = await runLocalCluster({
            nodes,
            writes: o.writes,
            concurrency: o.concurrency,
            dir,
            elexBin: ELEX_BIN,
            kills: o.kills,
            reconfigure: o.reconfigure,
            progress,
          });
          printJson(report);
          // A run that checked nothing is no pass: with no write acknowledged (or none read back) nothing was
          // compared, and exit 0 said the cluster kept every acknowledged write.
          const checkedNothing = report.acked === 0 || report.reads_checked === 0;
          // --reconfigure promises two changes, an add and a removal: one that never ran fails the run too.
          const changesMissing =
            o.reconfigure === true &&
            !(['add-voter', 'remove'] as const).every((t) =>
              report.reconfigurations.some((r) => r.type === t && r.ok),
            );
          if (
            report.lost_acked_writes > 0 ||
            report.reconfigurations.some((r) => !r.ok) ||
            checkedNothing ||
            changesMissing
          )
            process.exitCode = 1;
        } else {
          const report = await runCoordinatorCluster({
            nodes,
            activations: o.activations,
            conflictPairs: o.conflictPairs,
            queries: o.queries,
            down: o.down,
            stall: o.stall,
            gossip: o.gossip,
            concurrency: o.concurrency,
            dir,
            elexBin: ELEX_BIN,
            catalog: defaultCatalog(),
            kills: o.kills,
            progress,
          });
          printJson(report);
          if (report.violations.length > 0) process.exitCode = 1;
        }
      } finally {
        for (const s of signals) process.removeListener(s, onSignal);
        if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
      }
    });
}
