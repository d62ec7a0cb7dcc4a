import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { core, learning, node } from '../../src/index.js';

const LOCAL = { host: '127.0.0.1', port: 0 };
const dirs: string[] = [];
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'elex-lib-config-'));
  dirs.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function codeOf(
  p: Promise<unknown>,
  onValue: (v: never) => Promise<void> | void = () => {},
): Promise<string> {
  return p.then(
    async (v) => {
      await onValue(v as never);
      return 'accepted';
    },
    (e: { code?: string }) => e.code ?? `untyped ${String(e)}`,
  );
}

/** Whether a UDP port on 127.0.0.1 can be bound again (false: something still holds it). */
async function udpPortFree(port: number): Promise<boolean> {
  const s = createSocket('udp4');
  const ok = await new Promise<boolean>((resolve) => {
    s.once('error', () => resolve(false));
    s.bind(port, '127.0.0.1', () => resolve(true));
  });
  await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('FederationMember', () => {
  it('with sync_interval_ms of 2^32 ms (~49.7 days) does not sync within 200 ms of start', async () => {
    // Node clamps a setTimeout delay above 2^31 - 1 to 1 ms (TimeoutOverflowWarning): the member syncs every
    // millisecond. syncIntervalOf accepts any positive number (Infinity included).
    const network = await node.UdpFederationNetwork.bind({ id: 'a', listen: LOCAL });
    const rng = new core.SeededRng(1);
    let learns = 0;
    // Refused (E_CONFIG) or accepted without syncing: either keeps the member from syncing every millisecond.
    let m: node.FederationMember;
    try {
      m = new node.FederationMember({
        id: 'a',
        members: ['a', 'b', 'c'],
        network,
        keyring: new learning.MapKeyring(),
        identity: learning.identityFromRng('a', rng.fork('key')),
        dataDir: tempDir(),
        federation: { sync_interval_ms: 2 ** 32 },
        learn: () => {
          learns++;
        },
        rng,
      });
    } catch (e) {
      expect((e as { code?: string }).code).toBe('E_CONFIG');
      await network.close();
      return;
    }
    cleanups.push(() => m.stop());
    const warn = process.emitWarning;
    process.emitWarning = () => {};
    cleanups.push(() => {
      process.emitWarning = warn;
    });
    m.start();
    await sleep(200);
    expect(learns).toBe(0);
  });
});

describe('GossipMember.start', () => {
  it('releases its UDP socket when it refuses a bad config (E_CONFIG), so the port can be bound again', async () => {
    const port = await freeUdpPort();
    const r = await codeOf(
      node.GossipMember.start({ listen: { host: '127.0.0.1', port }, config: { fanout: 0 } }),
      (m: node.GossipMember) => m.stop(),
    );
    expect(r).toBe('E_CONFIG');
    // Observed: the socket bound before the core refused the config is never closed (it also keeps the
    // process alive).
    expect(await udpPortFree(port)).toBe(true);
  });

  it('refuses tickMs NaN / 0 / -1 with E_CONFIG instead of ticking every millisecond', async () => {
    for (const tickMs of [Number.NaN, 0, -1]) {
      const r = await codeOf(node.GossipMember.start({ listen: LOCAL, tickMs }), (m: node.GossipMember) =>
        m.stop(),
      );
      expect(r, `tickMs ${tickMs}`).toBe('E_CONFIG');
    }
  });
});

describe('KvNode.start', () => {
  it('refuses electionTimeoutMs NaN with E_CONFIG (accepted: the node never holds an election)', async () => {
    const port = 0;
    let put = 'not started';
    const r = await codeOf(
      node.KvNode.start({
        id: 1,
        cluster: new Map([[1, { host: '127.0.0.1', port }]]),
        dataDir: tempDir(),
        electionTimeoutMs: Number.NaN,
        requestTimeoutMs: 300,
      }),
      async (n: node.KvNode) => {
        // What a caller sees on the current code: a single-voter node that never becomes leader.
        put = await n.put('k', 'v').then(
          () => 'ok',
          (e: { code?: string }) => e.code ?? 'untyped',
        );
        await n.close();
      },
    );
    expect(`${r} (a put: ${put})`).toBe('E_CONFIG (a put: not started)');
  });
});
