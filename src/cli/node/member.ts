import type { Command } from 'commander';
import { parseAddress } from '../../node/address.js';
import { readClusterKeyring } from '../../node/cluster-key.js';
import { runGossipCluster } from '../../node/gossip-cluster.js';
import { GossipMember } from '../../node/gossip-member.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';
import { untilStopSignal } from './stop-signal.js';

interface MemberOptions {
  listen: string;
  join?: string;
  clusterKey?: string;
}

interface GossipClusterOptions {
  members: number;
  trials: number;
  clusterKey?: string;
  quiet?: boolean;
}

/** `elex member` (one gossip member on UDP) and `elex gossip-cluster` (N of them, timed crashes). */
export function register(program: Command): void {
  program
    .command('member')
    .description(
      'run one gossip member on UDP (the core `elex simulate gossip` measures, on the wall clock): prints one ' +
        'JSON line per membership change until SIGINT/SIGTERM, then leaves the group gracefully',
    )
    .requiredOption('--listen <host:port>', 'UDP address to bind; it is also the member’s name')
    .option('--join <list>', 'members to join through: host:port,…')
    .option(
      '--cluster-key <file>',
      'authenticate every datagram with this key file (`elex cluster-key`; the same file on every member): others are dropped. Default: none',
    )
    .addHelpText(
      'after',
      '\nExample (two terminals):\n  elex member --listen 127.0.0.1:7946\n  elex member --listen 127.0.0.1:7947 --join 127.0.0.1:7946',
    )
    .action(async (o: MemberOptions) => {
      const seeds = (o.join ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      for (const s of seeds) parseAddress(s); // refuses a malformed one before binding
      const auth = o.clusterKey === undefined ? undefined : readClusterKeyring(o.clusterKey);
      const m = await GossipMember.start({ listen: parseAddress(o.listen), seeds, auth });
      const line = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);
      const stop = untilStopSignal();
      line({ event: 'ready', name: m.name, seeds, authenticated: auth !== undefined });
      m.subscribe((e) => {
        if (e.kind === 'member')
          // With its generation and incarnation: a peer's restart (a new generation) reads as a change.
          line({
            event: 'member',
            name: e.name,
            status: e.status,
            previous: e.previous,
            gen: e.gen,
            inc: e.inc,
          });
      });
      await stop;
      await m.leave();
      line({ event: 'left', name: m.name });
    });

  program
    .command('gossip-cluster')
    .description(
      'start N gossip members on 127.0.0.1 UDP in this process with the real defaults (1 s rounds, fanout 3, ' +
        'phi 8), time the join, then crash members silently one at a time and time their detection; prints JSON',
    )
    // At least 3: a crash is timed by the members that stay up.
    .option('--members <n>', 'members', intOption(3, 200), 20)
    .option('--trials <n>', 'silent crashes to time', intOption(1, 50), 3)
    .option('--cluster-key <file>', 'every member authenticates its datagrams with this key file')
    .option('--quiet', 'no progress on stderr')
    .action(async (o: GossipClusterOptions) => {
      const report = await runGossipCluster({
        members: o.members,
        trials: o.trials,
        auth: o.clusterKey === undefined ? undefined : readClusterKeyring(o.clusterKey),
        progress: o.quiet ? undefined : (l) => process.stderr.write(`elex gossip-cluster: ${l}\n`),
      });
      printJson(report);
    });
}
