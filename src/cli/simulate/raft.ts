import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { runCampaign } from '../../sim/raft/campaign.js';
import { runFlapping } from '../../sim/raft/flapping.js';
import { MUTATIONS, type Mutation } from '../../sim/raft/mutations.js';
import { choiceOption, durationFlag, intOption } from '../options.js';
import { printJson } from '../output.js';
import { progress } from '../progress.js';

/**
 * `elex simulate raft`: the randomized safety campaign (faults + client load + invariant checks +
 * linearizability), a planted-bug mode (`--mutation`), and the flapping-member scenario.
 */
export function register(simulate: Command): void {
  simulate
    .command('raft')
    .description(
      'Raft campaign: random faults, membership changes and transfers under client load; checks safety',
    )
    .option('--runs <n>', 'runs (each with its own derived seed)', intOption(1, 1_000_000), 100)
    .option('--seed <n>', 'root seed', intOption(0, 2 ** 31 - 1), 1)
    .option('--nodes <n>', 'Raft voters', intOption(1, 64), 3)
    .addOption(durationFlag('--duration <d>', 'faulty period of each run (then heal and check)', '3s'))
    .option('--clients <n>', 'concurrent clients', intOption(1, 64), 3)
    .option(
      '--max-sessions <n>',
      "the KV machine's session bound (default 10,000); below --clients, sessions expire under load and retries in them must be refused",
      intOption(1, 1_000_000),
    )
    .option('--mutation <name>', `plant a bug: ${MUTATIONS.join(', ')}`, choiceOption(MUTATIONS))
    .option('--run-seed <n>', 'replay one run by its run_seed', intOption(0, 2 ** 31 - 1))
    .option(
      '--scenario <name>',
      "'campaign' or 'flapping' (a member that keeps dropping out; uses --seed, --nodes, --no-pre-vote)",
      choiceOption(['campaign', 'flapping'] as const),
      'campaign',
    )
    .option('--no-pre-vote', 'flapping scenario: disable PreVote and CheckQuorum (for contrast)')
    .option('--json', 'print the report as one JSON object on stdout (the default)')
    .option('--quiet', 'no progress on stderr')
    .action(function (
      this: Command,
      o: {
        runs: number;
        seed: number;
        nodes: number;
        duration: number;
        clients: number;
        maxSessions?: number;
        mutation?: Mutation;
        runSeed?: number;
        scenario: string;
        preVote: boolean;
        json?: boolean;
        quiet?: boolean;
      },
    ) {
      const started = performance.now();
      const given = (name: string) => this.getOptionValueSource(name) === 'cli';
      if (o.scenario === 'campaign') {
        // Refused, not ignored: the campaign always runs with PreVote and CheckQuorum.
        if (given('preVote'))
          throw new ElexError('E_USAGE', '--no-pre-vote applies to --scenario flapping, not to the campaign');
        // A replay runs the one run its run_seed names: --runs and the root seed would not be used.
        if (o.runSeed !== undefined)
          for (const name of ['runs', 'seed'])
            if (given(name))
              throw new ElexError(
                'E_USAGE',
                `--${name} does not apply with --run-seed (a replay runs that one run)`,
              );
      }
      if (o.scenario === 'flapping') {
        // Refused, not ignored: a clean report from a run that planted no --mutation would mislead.
        for (const name of ['runs', 'duration', 'clients', 'maxSessions', 'mutation', 'runSeed'])
          if (given(name))
            throw new ElexError(
              'E_USAGE',
              `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} applies to the campaign, not to --scenario flapping`,
            );
        if (o.nodes < 3)
          throw new ElexError('E_USAGE', `--scenario flapping needs --nodes 3 or more, got ${o.nodes}`);
        const r = runFlapping({ seed: o.seed, nodes: o.nodes, preVote: o.preVote });
        printJson({ ...r, perf: { wall_ms: Math.round(performance.now() - started) } });
        return;
      }
      const bar = progress(`simulate raft${o.mutation ? ` --mutation ${o.mutation}` : ''}`, o.quiet);
      const report = runCampaign(
        {
          runs: o.runs,
          seed: o.seed,
          nodes: o.nodes,
          durationMs: o.duration,
          clients: o.clients,
          ...(o.maxSessions !== undefined ? { maxSessions: o.maxSessions } : {}),
          mutation: o.mutation,
          stopOnCatch: o.mutation !== undefined,
          runSeed: o.runSeed,
        },
        (done, total) => bar.update(done, total, 'runs'),
      );
      bar.stop();
      printJson({ ...report, perf: { wall_ms: Math.round(performance.now() - started) } });
    });
}
