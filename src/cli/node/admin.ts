import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { parseAddress } from '../../node/address.js';
import { readClusterKeyring } from '../../node/cluster-key.js';
import { errorOf } from '../../node/http-client.js';
import { postSigned } from '../../node/signed-request.js';
import { durationFlag } from '../options.js';
import { printJson } from '../output.js';

interface AdminOptions {
  at: string;
  clusterKey?: string;
  timeout: number;
}

const CHANGES = {
  'add-voter': 'add a voter (a learner first catches up: add-learner, then add-voter)',
  'add-learner': 'add a learner: it receives the log and does not vote',
  remove: 'remove a voter or learner from the configuration',
} as const;

async function send(
  o: AdminOptions,
  path: '/admin/members' | '/admin/transfer',
  body: unknown,
): Promise<void> {
  const at = parseAddress(o.at);
  const ring = o.clusterKey === undefined ? undefined : readClusterKeyring(o.clusterKey);
  const timeout = Math.ceil(o.timeout);
  const r = await postSigned(at, path, body, ring, timeout);
  if (r === null)
    throw new ElexError(
      'E_UNREACHABLE',
      `no answer from ${o.at} (nothing listening, or nothing within ${timeout} ms)`,
    );
  if (r.status !== 200) {
    const e = errorOf(r.body);
    throw new ElexError(e.code ?? 'E_HTTP', `${o.at} refused (HTTP ${r.status}): ${e.message ?? ''}`);
  }
  printJson(r.body);
}

function nodeId(text: string): number {
  // Decimal digits only: Number('') is 0 and Number('0x2') is 2, so an unset "$ID" removed node 0.
  const n = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 0xffff))
    throw new ElexError('E_CONFIG', `a node id is a decimal integer in 0..65535, got '${text}'`);
  return n;
}

function withTarget(c: Command): Command {
  return c
    .requiredOption('--at <host:port>', 'the HTTP address of a node (membership changes: the leader)')
    .option(
      '--cluster-key <file>',
      'sign the request with this key file; a node started with --cluster-key refuses unsigned ones',
    )
    .addOption(
      durationFlag('--timeout <duration>', 'how long to wait for the answer', '16s', {
        positive: true,
        timer: true,
      }),
    );
}

/** `elex admin`: the operator routes of `elex node` and `elex coordinator`, signed when the cluster is keyed. */
export function register(program: Command): void {
  const admin = program
    .command('admin')
    .description(
      'change the Raft configuration of a running cluster (elex node or coordinator), one server at a time, or ' +
        'hand leadership over; prints the answer as JSON. With --cluster-key the request is signed (time, nonce, ' +
        'HMAC of method, path and body), as a keyed node requires',
    );
  for (const [type, what] of Object.entries(CHANGES)) {
    withTarget(
      admin.command(`${type} <node>`).description(`${what}; answers the configuration once applied`),
    ).action((node: string, o: AdminOptions) => send(o, '/admin/members', { type, node: nodeId(node) }));
  }
  withTarget(
    admin.command('transfer <node>').description('hand leadership to a voter; answers once it leads'),
  ).action((node: string, o: AdminOptions) => send(o, '/admin/transfer', { to: nodeId(node) }));
}
