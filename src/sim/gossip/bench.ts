import { median, SeededRng } from '../../core/index.js';
import {
  Channel,
  type ClaimEntry,
  decode,
  encode,
  GossipNode,
  type Message,
  MsgType,
  Status,
} from '../../gossip/index.js';
import { memberName } from './cluster.js';

export interface GossipBenchOptions {
  members: number;
  messages: number;
  repeat: number;
}

function rate(count: number, fn: () => void, repeat: number): number {
  const runs: number[] = [];
  for (let r = 0; r < repeat; r++) {
    const t = performance.now();
    fn();
    runs.push(count / ((performance.now() - t) / 1000));
  }
  return Math.round(median(runs));
}

/**
 * Heartbeats from `senders`, each with the next seq of its sender, as members send them: a repeated seq is a
 * duplicate the core drops without learning (until session 24 every timed heartbeat carried seq 1, so the
 * figure timed mostly dropped duplicates). One datagram per sender, its seq (the last field, a 4-byte varint
 * from 2^21) rewritten in place for each one handed out.
 */
function heartbeatFeed(senders: readonly string[]): (i: number) => Uint8Array {
  const first = 2 ** 21;
  const bufs = senders.map((s) => encode({ type: MsgType.heartbeat, sender: s, gen: 1, inc: 0, seq: first }));
  const seqs = senders.map(() => first);
  return (i) => {
    const k = i % bufs.length;
    const b = bufs[k];
    const v = ++seqs[k];
    const o = b.length - 4;
    b[o] = (v & 0x7f) | 0x80;
    b[o + 1] = ((v >>> 7) & 0x7f) | 0x80;
    b[o + 2] = ((v >>> 14) & 0x7f) | 0x80;
    b[o + 3] = (v >>> 21) & 0x7f;
    return b;
  };
}

/** One member that knows `members` others, every member alive, one key each. */
function warmNode(members: number): { node: GossipNode; names: string[] } {
  const node = new GossipNode({ name: memberName(0), generation: 1, rng: new SeededRng(1), now: 0 });
  const names = Array.from({ length: members - 1 }, (_, i) => memberName(i + 1));
  node.handle(encode({ type: MsgType.join, sender: names[0], gen: 1, inc: 0 }), 0);
  for (let i = 0; i < names.length; i += 40) {
    const claims: ClaimEntry[] = names
      .slice(i, i + 40)
      .map((name) => ({ name, gen: 1, inc: 0, status: Status.alive }));
    node.handle(encode({ type: MsgType.rumor, sender: names[0], gen: 1, inc: 0, claims }), 0);
  }
  node.tick(1000);
  return { node, names };
}

/**
 * Throughput of one member's core (decode + state update + replies + encode) per message kind and for the
 * idle mix (9 heartbeats : 3 in-sync SYNs), and of the codec alone. Wall-clock figures: not deterministic.
 */
export function benchGossip(o: GossipBenchOptions) {
  const { node, names } = warmNode(o.members);
  let now = 2000;
  const step = (): number => {
    now += 0.01;
    return now;
  };
  const monitored = node.monitoring.length > 0 ? node.monitoring : names.slice(0, 9);
  const hb = heartbeatFeed(monitored);
  // The codec alone, and the size of a heartbeat early in a member's life (a 1-byte seq).
  const hbSample = encode({ type: MsgType.heartbeat, sender: monitored[0], gen: 1, inc: 0, seq: 1 });
  const header = { sender: names[1], gen: 1, inc: 0 };
  const inSync = (): Uint8Array =>
    encode({
      type: MsgType.exchange,
      ...header,
      body: { hop: 0, hash: hashOf(node), digest: [], covered: [], requests: [], deltas: [] },
    });
  const differing = encode({
    type: MsgType.exchange,
    ...header,
    body: { hop: 0, hash: [1, 2], digest: [], covered: [], requests: [], deltas: [] },
  });
  const syn = inSync();
  const n = o.messages;
  const heartbeat = rate(
    n,
    () => {
      for (let i = 0; i < n; i++) node.handle(hb(i), step());
    },
    o.repeat,
  );
  const synInSync = rate(
    n,
    () => {
      for (let i = 0; i < n; i++) node.handle(syn, step());
    },
    o.repeat,
  );
  const idleMix = rate(
    n,
    () => {
      for (let i = 0; i < n; i++) node.handle(i % 4 === 3 ? syn : hb(i), step());
    },
    o.repeat,
  );
  const synDiffering = rate(
    n / 10,
    () => {
      for (let i = 0; i < n / 10; i++) node.handle(differing, step());
    },
    o.repeat,
  );
  // A full 1,200-byte delta carrying new versions of one member's keys, applied again and again.
  let version = 0;
  const deltaMsg = (): Uint8Array => {
    const keys = [];
    for (let k = 0; k < 20; k++)
      keys.push({ channel: Channel.state, key: `q${k}`, version: ++version, value: new Uint8Array(40) });
    return encode({
      type: MsgType.exchange,
      ...header,
      body: {
        hop: 2,
        digest: [],
        covered: [],
        requests: [],
        deltas: [
          {
            claim: { name: names[1], gen: 1, inc: 0, status: Status.alive },
            fromVersion: version - 20,
            keys,
          },
        ],
      },
    });
  };
  const deltas = Array.from({ length: 2000 }, deltaMsg);
  const deltaBytes = deltas[0].length;
  let di = 0;
  const deltaApply = rate(
    2000,
    () => {
      for (let i = 0; i < 2000 && di < deltas.length; i++) node.handle(deltas[di++], step());
    },
    1,
  );
  // Codec alone.
  const big: Message = decode(deltas[0], 1200);
  const bigBytes = encode(big);
  const enc = rate(
    n / 10,
    () => {
      for (let i = 0; i < n / 10; i++) encode(big);
    },
    o.repeat,
  );
  const dec = rate(
    n / 10,
    () => {
      for (let i = 0; i < n / 10; i++) decode(bigBytes, 1200);
    },
    o.repeat,
  );
  const hbDec = rate(
    n,
    () => {
      for (let i = 0; i < n; i++) decode(hbSample, 1200);
    },
    o.repeat,
  );
  return {
    members_known: node.knownCount,
    core_messages_per_s: {
      heartbeat: heartbeat,
      syn_in_sync: synInSync,
      idle_mix_9hb_3syn: idleMix,
      syn_differing_with_bucket_reply: synDiffering,
      delta_apply_20_keys: deltaApply,
    },
    codec: {
      exchange_bytes: bigBytes.length,
      encode_msgs_per_s: enc,
      decode_msgs_per_s: dec,
      encode_mb_per_s: Number(((enc * bigBytes.length) / 1e6).toFixed(1)),
      decode_mb_per_s: Number(((dec * bigBytes.length) / 1e6).toFixed(1)),
      heartbeat_bytes: hbSample.length,
      heartbeat_decode_per_s: hbDec,
    },
    delta_bytes: deltaBytes,
  };
}

function hashOf(node: GossipNode): [number, number] {
  const [hi, lo] = node.stateHash.split(':').map((x) => Number.parseInt(x, 16));
  return [lo, hi];
}
