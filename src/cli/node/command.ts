import type { Server } from 'node:http';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { formatAddress, parseAddress, parseCluster } from '../../node/address.js';
import { AGENTS_FILE, STANDBY_AGENTS_FILE } from '../../node/agent-store.js';
import { defaultCatalog } from '../../node/catalog-file.js';
import { readClusterKeyring } from '../../node/cluster-key.js';
import { CoordinatorGossip } from '../../node/coordinator-gossip.js';
import { serveCoordinatorHttp } from '../../node/coordinator-http.js';
import { CoordinatorNode } from '../../node/coordinator-node.js';
import { serveKvHttp } from '../../node/kv-http.js';
import { KvNode } from '../../node/kv-node.js';
import { QueryService } from '../../node/query-service.js';
import type { RaftProcessOptions, RaftStatus } from '../../node/raft-process.js';
import { STANDBY_RETURNS_FILE } from '../../node/standby-return.js';
import type { Address } from '../../node/tcp-transport.js';
import { durationFlag, intOption } from '../options.js';
import { untilStopSignal } from './stop-signal.js';

interface NodeOptions {
  id: number;
  cluster: string;
  http?: string;
  httpPeers?: string;
  voters?: string;
  dataDir?: string;
  electionTimeout: number;
  heartbeat: number;
  clusterKey?: string;
  federation?: number;
  agentsSave?: number;
  gossip?: boolean;
}

interface Running {
  raftAddress: Address;
  status(): RaftStatus;
  close(): Promise<void>;
}

/** The options every Raft process command takes. */
function raftOptions(c: Command, dataDir: string): Command {
  return c
    .requiredOption('--id <n>', 'this node’s id (a key of --cluster)', intOption(0, 0xffff))
    .requiredOption(
      '--cluster <list>',
      'every voter’s Raft address: id=host:port,… (the same list on every node)',
    )
    .option('--http <host:port>', 'serve the client API here (default: none)')
    .option(
      '--voters <ids>',
      'the configuration a fresh data directory boots with: id,… (default: every --cluster member); the others join through POST /admin/members',
    )
    .option(
      '--data-dir <dir>',
      `log, hard state and snapshots; a restart resumes from it (default: ${dataDir})`,
    )
    .addOption(
      durationFlag('--election-timeout <d>', 'base election timeout (each term draws from [d, 2d))', '150ms'),
    )
    .addOption(durationFlag('--heartbeat <d>', 'leader heartbeat interval', '50ms'))
    .option(
      '--cluster-key <file>',
      'authenticate the cluster with this key file (`elex cluster-key`; the same file on every node): Raft frames without a valid tag are refused, and so are unsigned admin requests and, between coordinators, unsigned /query/part, /query/standby, /feedback/forwarded, /feedback/standby, /patterns, /agents/mirror and /agents/return requests. Default: none, for a network you trust',
    );
}

/** Checks the options, starts the node and its HTTP API, prints one JSON line, runs until SIGINT/SIGTERM. */
async function run<N extends Running>(
  kind: string,
  o: NodeOptions,
  defaultDir: string,
  start: (p: RaftProcessOptions) => Promise<N>,
  http: (n: N, at: Address, peers: Map<number, Address>, dataDir: string) => Promise<Server>,
): Promise<void> {
  const cluster = parseCluster(o.cluster);
  if (!cluster.has(o.id))
    throw new ElexError('E_USAGE', `--id ${o.id} is not in --cluster (${[...cluster.keys()].join(', ')})`);
  if (!(o.heartbeat < o.electionTimeout))
    throw new ElexError(
      'E_USAGE',
      `--heartbeat (${o.heartbeat} ms) must be below --election-timeout (${o.electionTimeout} ms)`,
    );
  const httpAt = o.http === undefined ? undefined : parseAddress(o.http);
  const voters = o.voters?.split(',').map((v) => {
    const id = Number(v.trim());
    if (!Number.isInteger(id) || !cluster.has(id))
      throw new ElexError(
        'E_USAGE',
        `--voters: '${v}' is not an id in --cluster (${[...cluster.keys()].join(', ')})`,
      );
    return id;
  });
  const auth = o.clusterKey === undefined ? undefined : readClusterKeyring(o.clusterKey);
  const log = (line: string) => process.stderr.write(`elex ${kind} ${o.id}: ${line}\n`);
  const dataDir = o.dataDir ?? defaultDir;
  const node = await start({
    id: o.id,
    cluster,
    voters,
    dataDir,
    electionTimeoutMs: o.electionTimeout,
    heartbeatMs: o.heartbeat,
    auth,
    log,
    onFatal: (e) => {
      // A failed assertion, or a disk that refused a write (the line before says which).
      log(`exiting: ${e instanceof Error ? e.message : String(e)}`);
      process.exit(70); // EX_SOFTWARE: a supervisor restarts the node from its disk
    },
  });
  const peers = o.httpPeers === undefined ? new Map<number, Address>() : parseCluster(o.httpPeers);
  if (httpAt !== undefined && !peers.has(o.id)) peers.set(o.id, httpAt);
  let server: Server | null = null;
  try {
    server = httpAt === undefined ? null : await http(node, httpAt, peers, dataDir);
  } catch (e) {
    await node.close(); // a port in use, an agents file it cannot read: the error, not a half-started node
    throw e;
  }
  const a = server?.address();
  const stop = untilStopSignal();
  process.stdout.write(
    `${JSON.stringify({
      event: 'ready',
      kind,
      id: o.id,
      raft: formatAddress(node.raftAddress),
      http: a && typeof a === 'object' ? formatAddress({ host: a.address, port: a.port }) : null,
      data_dir: dataDir,
      authenticated: auth !== undefined,
      recovered: node.status().recovery,
    })}\n`,
  );
  await stop;
  // No new connections; then the node's close fails what is pending (503 E_STOPPED), so a request in flight
  // gets an answer instead of a cut connection (`elex admin` read that as E_UNREACHABLE although the change
  // may have applied). Then the API's close hooks run (a coordinator saves its agents) once its connections
  // are done, or cut after a second.
  const closed =
    server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
  await node.close();
  if (server !== null) {
    server.closeIdleConnections();
    const cut = setTimeout(() => server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(cut);
  }
  log('stopped');
}

/** `elex node` and `elex coordinator`: one Raft process on TCP and a file, until SIGINT or SIGTERM. */
export function register(program: Command): void {
  raftOptions(
    program
      .command('node')
      .description(
        'run one Raft KV node on real sockets and a durable file: the Raft code the simulator checks, on the ' +
          'wall clock. Prints one JSON line when listening, then serves an HTTP API until SIGINT/SIGTERM',
      ),
    'elex-node-data',
  )
    .addHelpText(
      'after',
      '\nHTTP API: GET /status, GET /metrics, GET /kv/<key> (linearizable), PUT /kv/<key> (body: the value), DELETE /kv/<key>.\n' +
        'POST /sessions opens a client session ({"client": id}); a write with headers elex-client: <id> and\n' +
        'elex-seq: <n> (1, 2, …) executes once (a retry gets the first answer); elex-if: <value> makes a PUT a\n' +
        'compare-and-set.\n' +
        'Operators: POST /admin/members {"type":"add-voter"|"add-learner"|"remove","node":N} (on the leader),\n' +
        'POST /admin/transfer {"to":N}, or `elex admin`; with --cluster-key they must be signed (elex admin --cluster-key).\n' +
        'Errors are JSON {code, message}: 503 no leader yet (retry), 504 timed out or leader changed (the write may still apply).\n' +
        '\nExample (three terminals, or see `elex cluster`):\n' +
        '  elex node --id 1 --cluster 1=127.0.0.1:7001,2=127.0.0.1:7002,3=127.0.0.1:7003 --http 127.0.0.1:8001 --data-dir n1\n' +
        '  curl -X PUT --data on 127.0.0.1:8001/kv/IFLB && curl 127.0.0.1:8001/kv/IFLB',
    )
    .action((o: NodeOptions) => run('node', o, 'elex-node-data', KvNode.start, serveKvHttp));

  raftOptions(
    program
      .command('coordinator')
      .description(
        'run one coordinator replica on real sockets and a durable file: the control plane (feature activation ' +
          'with prerequisites and conflicts, parameters within safe zones, the agent registry) replicated by Raft, ' +
          'the replica the swarm simulation runs. Serves an HTTP API until SIGINT/SIGTERM',
      ),
    'elex-coordinator-data',
  )
    .option(
      '--http-peers <list>',
      'every coordinator’s HTTP address: id=host:port,… (queries: category k’s agents live on the k-th coordinator, round robin; without it this coordinator hosts them all)',
    )
    .addOption(
      durationFlag(
        '--federation <d>',
        'the hosted agents’ federation round: each category’s agents merge what they learned, confident answers go to every coordinator as patterns, the agents’ changed tables to their categories’ standby, and the standby agents’ ratings back to their primary (0: off)',
        '10s',
        { timer: true },
      ),
    )
    .addOption(
      durationFlag(
        '--agents-save <d>',
        `how often the hosted agents' learning is saved to --data-dir/${AGENTS_FILE} (the standby agents': ${STANDBY_AGENTS_FILE}) when it changed; a restart resumes it (0: only at shutdown)`,
        '10s',
        { timer: true },
      ),
    )
    .option(
      '--no-gossip',
      'run no gossip member (by default, with other coordinators in --http-peers, one runs on UDP at this coordinator’s --http-peers address: its phi-accrual failure detector tells which coordinators not to ask, so no query waits out the timeout on one that is down)',
    )
    .addHelpText(
      'after',
      '\nHTTP API: POST /commands (JSON, e.g. {"op":"activate","feature":"IFLB","with_prerequisites":true}),\n' +
        'GET /features/<id|FAJ code|acronym> and GET /active (linearizable, with the Raft index), GET /status, GET /metrics.\n' +
        'A refused command answers 409 with its reason (CONFLICT, MISSING_PREREQUISITE, OUT_OF_ZONE, …).\n' +
        'POST /query {"type":"parameter","text":"…","features"?:[…],"complexity"?:"simple"}: answered by the feature agents at a\n' +
        'linearizable point, across coordinators, aggregated by confidence, with the Raft index it reflects;\n' +
        'listed features the catalogue does not know are named in its unknownFeatures; when a hosting coordinator does\n' +
        'not answer, the next coordinator’s standby agents answer its features, named in the reply’s standby.\n' +
        'POST /feedback {"queryId":N,"feature":"…","rating":1}: the agent that answered learns from it; every\n' +
        '--federation round its category peers merge it, and GET /agents counts what the federation moved.\n' +
        '\nExample: elex coordinator --id 1 --cluster 1=127.0.0.1:7001,2=…,3=… --http 127.0.0.1:8001 --data-dir c1',
    )
    .action((o: NodeOptions) => {
      const catalog = defaultCatalog();
      return run(
        'coordinator',
        o,
        'elex-coordinator-data',
        (p) => CoordinatorNode.start({ ...p, catalog }),
        async (n, at, peers, dataDir) => {
          const gossip =
            o.gossip !== false && peers.size > 1
              ? await CoordinatorGossip.start({ self: o.id, http: peers, keyring: n.keyring })
              : undefined;
          try {
            return await serveCoordinatorHttp(
              n,
              catalog,
              at,
              new QueryService(n, catalog, peers, {
                federationMs: o.federation,
                agentsFile: join(dataDir, AGENTS_FILE),
                standbyAgentsFile: join(dataDir, STANDBY_AGENTS_FILE),
                standbyReturnsFile: join(dataDir, STANDBY_RETURNS_FILE),
                saveMs: o.agentsSave,
                suspected: gossip && ((c) => gossip.suspected(c)),
                patterns: gossip?.patterns,
              }),
              gossip,
            );
          } catch (e) {
            await gossip?.stop();
            throw e;
          }
        },
      );
    });
}
