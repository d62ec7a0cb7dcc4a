import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { isElexError } from '../core/index.js';
import { register as benchAuth } from './bench/auth.js';
import { register as benchFederation } from './bench/federation.js';
import { register as benchGossip } from './bench/gossip.js';
import { register as benchRaft } from './bench/raft.js';
import { register as benchSim } from './bench/sim.js';
import { register as catalog } from './catalog/command.js';
import { register as admin } from './node/admin.js';
import { register as cluster } from './node/cluster.js';
import { register as clusterKey } from './node/cluster-key.js';
import { register as node } from './node/command.js';
import { register as federationCluster } from './node/federation.js';
import { register as federationMember } from './node/federation-member.js';
import { register as member } from './node/member.js';
import { register as simBasic } from './simulate/basic.js';
import { register as simFederation } from './simulate/federation.js';
import { register as simGossip } from './simulate/gossip.js';
import { register as simRaft } from './simulate/raft.js';
import { register as simSwarm } from './simulate/swarm.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(): Command {
  const program = new Command('elex')
    .description(
      'ELEX Swarm: 593 RAN-feature agents and 14 coordinators on Raft, gossip and federated Q-learning.\n' +
        'Every protocol core is pure; `simulate` runs them in a deterministic simulator (same seed, same report).',
    )
    .version(version(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  const simulate = program
    .command('simulate')
    .description('run a scenario in the deterministic simulator (default: swarm)');
  simSwarm(simulate);
  simBasic(simulate);
  simRaft(simulate);
  simGossip(simulate);
  simFederation(simulate);
  // `elex simulate swrm` would otherwise reach the default scenario as a stray argument ("too many arguments
  // for 'swarm'"): name the scenarios instead.
  simulate.hook('preSubcommand', (self) => {
    const first = self.args[0];
    if (first === undefined || first.startsWith('-')) return;
    const names = self.commands.map((c) => c.name()).filter((n) => n !== 'help');
    if (!self.commands.some((c) => c.name() === first || c.aliases().includes(first)))
      self.error(`error: unknown scenario '${first}' (expected one of ${names.join(', ')})`, {
        code: 'commander.unknownCommand',
      });
  });

  const bench = program.command('bench').description('benchmarks; each prints one JSON object');
  benchSim(bench);
  benchRaft(bench);
  benchGossip(bench);
  benchFederation(bench);
  benchAuth(bench);

  catalog(program);
  node(program);
  cluster(program);
  clusterKey(program);
  admin(program);
  member(program);
  federationCluster(program);
  federationMember(program);

  const adminCommands = program.commands.find((c) => c.name() === 'admin')?.commands ?? [];
  for (const c of [
    program,
    simulate,
    bench,
    ...simulate.commands,
    ...bench.commands,
    ...program.commands,
    ...adminCommands,
  ]) {
    c.exitOverride();
  }
  return program;
}

/** Entry point: returns the exit code. Errors become one line on stderr, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  // `elex … --json | head` closes stdout early: stop quietly, as Unix tools do, instead of an EPIPE trace.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      return e.exitCode === 0 || e.code === 'commander.helpDisplayed' || e.code === 'commander.version'
        ? 0
        : 2;
    }
    if (isElexError(e)) {
      process.stderr.write(`elex: ${e.message} [${e.code}]\n`);
      return 1;
    }
    // The file system's refusals (a data file that is a directory, a disk that is full, …) are the user's to
    // act on, not a bug in elex: one line, not a stack trace.
    const sys = e as NodeJS.ErrnoException;
    if (e instanceof Error && typeof sys.code === 'string' && typeof sys.syscall === 'string') {
      process.stderr.write(`elex: ${sys.message} [E_IO]\n`);
      return 1;
    }
    throw e;
  }
}
