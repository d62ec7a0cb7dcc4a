import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { formatAddress, parseAddress, parseCluster } from '../../node/address.js';
import { serveHttp } from '../../node/http-api.js';
import { KvNode } from '../../node/kv-node.js';
import { durationOption, intOption } from '../options.js';

interface NodeOptions {
  id: number;
  cluster: string;
  http?: string;
  dataDir: string;
  electionTimeout: number;
  heartbeat: number;
}

/** `elex node`: one Raft KV node in this process, on TCP and a file, until SIGINT or SIGTERM. */
export function register(program: Command): void {
  program
    .command('node')
    .description(
      'run one Raft KV node on real sockets and a durable file: the Raft code the simulator checks, on the ' +
        'wall clock. Prints one JSON line when listening, then serves an HTTP API until SIGINT/SIGTERM',
    )
    .requiredOption('--id <n>', 'this node’s id (a key of --cluster)', intOption(0, 0xffff))
    .requiredOption(
      '--cluster <list>',
      'every voter’s Raft address: id=host:port,… (the same list on every node)',
    )
    .option('--http <host:port>', 'serve the client API here (default: none)')
    .option('--data-dir <dir>', 'log, hard state and snapshots; a restart resumes from it', 'elex-node-data')
    .option(
      '--election-timeout <d>',
      'base election timeout (each term draws from [d, 2d))',
      durationOption,
      150,
    )
    .option('--heartbeat <d>', 'leader heartbeat interval', durationOption, 50)
    .addHelpText(
      'after',
      '\nHTTP API: GET /status, GET /kv/<key> (linearizable), PUT /kv/<key> (body: the value), DELETE /kv/<key>.\n' +
        'Errors are JSON {code, message}: 503 no leader yet (retry), 504 timed out (the write may still apply).\n' +
        '\nExample (three terminals, or see `elex cluster`):\n' +
        '  elex node --id 1 --cluster 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --http 127.0.0.1:8001 --data-dir n1\n' +
        '  curl -X PUT --data on 127.0.0.1:8001/kv/IFLB && curl 127.0.0.1:8001/kv/IFLB',
    )
    .action(async (o: NodeOptions) => {
      const cluster = parseCluster(o.cluster);
      if (!cluster.has(o.id))
        throw new ElexError(
          'E_USAGE',
          `--id ${o.id} is not in --cluster (${[...cluster.keys()].join(', ')})`,
        );
      if (!(o.heartbeat < o.electionTimeout))
        throw new ElexError(
          'E_USAGE',
          `--heartbeat (${o.heartbeat} ms) must be below --election-timeout (${o.electionTimeout} ms)`,
        );
      const httpAt = o.http === undefined ? undefined : parseAddress(o.http);
      const log = (line: string) => process.stderr.write(`elex node ${o.id}: ${line}\n`);
      const node = await KvNode.start({
        id: o.id,
        cluster,
        dataDir: o.dataDir,
        electionTimeoutMs: o.electionTimeout,
        heartbeatMs: o.heartbeat,
        log,
      });
      const http = httpAt === undefined ? null : await serveHttp(node, httpAt);
      const httpAddr = http?.address();
      process.stdout.write(
        `${JSON.stringify({
          event: 'ready',
          id: o.id,
          raft: formatAddress(node.raftAddress),
          http:
            httpAddr && typeof httpAddr === 'object'
              ? formatAddress({ host: httpAddr.address, port: httpAddr.port })
              : null,
          data_dir: o.dataDir,
          recovered: node.status().recovery,
        })}\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      http?.close();
      await node.close();
      log('stopped');
    });
}
