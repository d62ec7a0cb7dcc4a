import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { ElexError, SeededRng } from '../../core/index.js';
import { formatAddress, parseAddress, parseNamedAddresses } from '../../node/address.js';
import { loadIdentity, loadKeyring, writeFederationKeys } from '../../node/federation-keys.js';
import { FederationMember } from '../../node/federation-member.js';
import { learnTask, maxAbsError } from '../../node/known-task.js';
import { makeDirectory } from '../../node/make-dir.js';
import { UdpFederationNetwork } from '../../node/udp-federation.js';
import { knownTask } from '../../sim/federation/sim-network.js';
import { durationFlag, intOption } from '../options.js';
import { printJson } from '../output.js';
import { untilStopSignal } from './stop-signal.js';

interface KeysFlags {
  members: string;
  dir: string;
}

interface MemberFlags {
  id: string;
  members: string;
  listen?: string;
  key: string;
  keyring: string;
  dataDir: string;
  sync: number;
  learnPerSync: number;
  minPeers: number;
  status: number;
  flip?: boolean;
}

/** `elex federation-keys` and `elex federation-member`: federation members as processes of their own. */
export function register(program: Command): void {
  program
    .command('federation-keys')
    .description(
      'generate Ed25519 keys for federation members: <dir>/<id>.key (each member’s private seed, mode 600) and ' +
        '<dir>/keyring.json (every member’s public key, for every member to load); prints the paths as JSON',
    )
    .requiredOption('--members <ids>', 'member ids: m0,m1,m2')
    .requiredOption('--dir <dir>', 'where to write the keys')
    .action((o: KeysFlags) => {
      const ids = o.members.split(',').map((s) => s.trim());
      printJson(writeFederationKeys(o.dir, ids));
    });

  program
    .command('federation-member')
    .description(
      'run one federation member (FederatedQTable on UDP, the protocol `elex simulate federation` evaluates) ' +
        'learning the known task (8 entries, Q* = reward): it elects an aggregator with the others, sends signed ' +
        'deltas and adopts aggregates; its vote is fsynced in --data-dir before it leaves. Prints one JSON line ' +
        'per --status interval (role, term, aggregator, largest |Q − Q*|, refusals) until SIGINT/SIGTERM',
    )
    .requiredOption('--id <id>', 'this member’s id (its key and its entry in --members)')
    .requiredOption('--members <list>', 'every member with its UDP address: m0=127.0.0.1:7100,m1=…')
    .option('--listen <host:port>', 'UDP address to bind (default: this member’s address in --members)')
    .requiredOption('--key <file>', 'this member’s key (from `elex federation-keys`)')
    .requiredOption('--keyring <file>', 'every member’s public key (keyring.json)')
    .requiredOption('--data-dir <dir>', 'where the vote is kept across restarts')
    .addOption(durationFlag('--sync <time>', 'sync_interval_ms', '1s', { positive: true, timer: true }))
    .option('--learn-per-sync <n>', 'interactions learned before each sync', intOption(0, 1000), 3)
    .option(
      '--min-peers <n>',
      'min_peers_for_consensus: members (the aggregator included) whose deltas a round needs',
      intOption(1, 1000),
      3,
    )
    .addOption(
      durationFlag('--status <time>', 'how often to print a status line', '1s', {
        positive: true,
        timer: true,
      }),
    )
    .option('--flip', 'learn every reward negated (a faulty member, for demonstrations and tests)')
    .addHelpText(
      'after',
      '\nExample (three terminals after `elex federation-keys --members m0,m1,m2 --dir keys`):\n' +
        '  elex federation-member --id m0 --members m0=127.0.0.1:7100,m1=127.0.0.1:7101,m2=127.0.0.1:7102 \\\n' +
        '    --key keys/m0.key --keyring keys/keyring.json --data-dir m0\n  (and m1, m2 likewise)',
    )
    .action(async (o: MemberFlags) => {
      const addresses = parseNamedAddresses(o.members);
      const own = addresses.get(o.id);
      if (own === undefined) throw new ElexError('E_USAGE', `--members does not name ${o.id}`);
      const identity = loadIdentity(o.key, o.id);
      const keyring = loadKeyring(o.keyring);
      for (const id of addresses.keys())
        if (keyring.publicKey(id) === undefined)
          throw new ElexError('E_KEY', `${o.keyring} has no key for member ${id}`);
      const listed = keyring.publicKey(o.id)?.export({ format: 'der', type: 'spki' });
      const mine = identity.publicKey.export({ format: 'der', type: 'spki' });
      if (listed === undefined || !listed.equals(mine))
        throw new ElexError('E_KEY', `${o.key} is not the key ${o.keyring} lists for ${o.id}`);
      // Before the socket: a refusal after it would leave the process running on an open socket.
      makeDirectory(o.dataDir, '--data-dir');
      const network = await UdpFederationNetwork.bind({
        id: o.id,
        listen: o.listen ? parseAddress(o.listen) : own,
      });
      for (const [id, at] of addresses) if (id !== o.id) network.route(id, at);
      const task = knownTask();
      const rng = new SeededRng(randomBytes(4).readInt32LE(0));
      const errors = new Map<string, number>();
      let member: FederationMember;
      try {
        member = new FederationMember({
          id: o.id,
          members: [...addresses.keys()],
          network,
          keyring,
          identity,
          dataDir: o.dataDir,
          federation: { sync_interval_ms: o.sync, min_peers_for_consensus: o.minPeers },
          rng: rng.fork('timer'),
          onError: (e) => {
            const code = e instanceof ElexError ? e.code : 'UNTYPED';
            errors.set(code, (errors.get(code) ?? 0) + 1);
          },
          learn: learnTask(task, rng, o.learnPerSync, o.flip === true),
        });
      } catch (e) {
        await network.close();
        throw e;
      }
      const started = Date.now();
      const line = (x: unknown) => process.stdout.write(`${JSON.stringify(x)}\n`);
      const stop = untilStopSignal();
      line({ event: 'ready', id: o.id, address: formatAddress(network.address), term: member.fqt.term });
      member.start();
      const status = setInterval(() => {
        const t = member.fqt;
        const worst = maxAbsError(t, task);
        line({
          event: 'status',
          t_ms: Date.now() - started,
          id: o.id,
          state: t.consensus_state.kind,
          term: t.term,
          leader: t.leader,
          aggregate: [t.lastAggregate.term, t.lastAggregate.round],
          max_abs_error: Math.round(worst * 1e4) / 1e4,
          refusals: Object.fromEntries([...t.refusals].sort()),
          errors: Object.fromEntries([...errors].sort()),
          udp: network.stats,
        });
      }, o.status);
      await stop;
      clearInterval(status);
      await member.stop();
      line({ event: 'stopped', id: o.id });
    });
}
