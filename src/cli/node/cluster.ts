import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { runLocalCluster } from '../../node/local-cluster.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

interface ClusterOptions {
  nodes: number;
  writes: number;
  concurrency: number;
  dir?: string;
  kill: boolean;
  quiet?: boolean;
}

const ELEX_BIN = fileURLToPath(new URL('../../../bin/elex.js', import.meta.url));

/** `elex cluster`: a local cluster of `elex node` processes, a write workload, a leader SIGKILL, a check. */
export function register(program: Command): void {
  program
    .command('cluster')
    .description(
      'start a local cluster of `elex node` processes on 127.0.0.1, write through random nodes, SIGKILL the ' +
        'leader a third of the way in and restart it from its data directory two thirds in, then read every ' +
        'acknowledged write back from every node (linearizable reads). Prints a JSON report; exit 1 if any ' +
        'acknowledged write is missing',
    )
    .option('--nodes <n>', 'voters', intOption(1, 15), 3)
    .option('--writes <n>', 'writes to issue', intOption(1, 1_000_000), 300)
    .option('--concurrency <n>', 'writes in flight at once', intOption(1, 256), 8)
    .option(
      '--dir <dir>',
      'keep the nodes’ data directories here (default: a temporary directory, removed after)',
    )
    .option('--no-kill', 'do not kill the leader')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: ClusterOptions) => {
      const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'elex-cluster-'));
      try {
        const report = await runLocalCluster({
          nodes: o.nodes,
          writes: o.writes,
          concurrency: o.concurrency,
          dir,
          elexBin: ELEX_BIN,
          killLeader: o.kill && o.nodes >= 3,
          progress: o.quiet ? undefined : (line) => process.stderr.write(`elex cluster: ${line}\n`),
        });
        printJson(report);
        if (report.lost_acked_writes > 0) process.exitCode = 1;
      } finally {
        if (o.dir === undefined) rmSync(dir, { recursive: true, force: true });
      }
    });
}
