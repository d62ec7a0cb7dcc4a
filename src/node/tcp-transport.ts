import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { DEFAULT_MAX_FRAME_BYTES, ElexError, encodeFrame, isElexError } from '../core/index.js';
import { decodeMessage, encodeMessage, type Message } from '../raft/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { InboundSlots } from './inbound-slots.js';
import { decodeHello, type Hello, HelloGuard, helloFrame } from './tcp-hello.js';
import { type FrameVerdict, readInbound } from './tcp-inbound.js';

export interface Address {
  host: string;
  port: number;
}

export interface TcpTransportOptions {
  /** This node's Raft id: inbound messages must be addressed to it. */
  id: number;
  listen: Address;
  /** Every other voter's address, by id. Messages from ids not listed here are refused. */
  peers: ReadonlyMap<number, Address>;
  onMessage(m: Message): void;
  /**
   * Bytes held for a peer: while its connection is down, the oldest beyond this (or beyond 1,024 messages)
   * are dropped; once up, new messages are dropped while the socket holds more than this unsent (default 8 MiB).
   */
  maxQueueBytes?: number;
  /** Largest frame accepted from the network (default 64 MiB, the codec's own limit). */
  maxFrameBytes?: number;
  /**
   * Largest frame accepted on an inbound connection before it has delivered a message (default 4 MiB, twice
   * the largest message Raft sends here); a larger one closes the connection unread (`refused.E_FRAME`).
   * This bounds what a stranger makes us buffer; it must stay above any legitimate message.
   */
  maxFirstFrameBytes?: number;
  /**
   * The cluster's keyring: every frame is sealed with it, and an inbound frame that does not open under it is
   * refused (`E_AUTH`) and its connection closed. Without it identities are not authenticated.
   */
  auth?: ClusterKeyring;
  /**
   * Inbound connections held at once (default 4 per peer, plus 8). At the cap a newcomer evicts the oldest
   * stranger (`refused.E_STRANGER_EVICTED`), or is closed at once if every connection held has delivered a
   * message (`refused.E_TOO_MANY_CONNECTIONS`). A peer needs one, and a few more while a dead one is noticed.
   */
  maxInboundConnections?: number;
  /**
   * Inbound connections held at once that have not delivered a message yet (default 16); beyond it a
   * newcomer evicts the oldest (`refused.E_STRANGER_EVICTED`). What strangers make us buffer is at most this
   * times `maxFirstFrameBytes` (64 MiB by default), whatever the cluster's size.
   */
  maxStrangers?: number;
  /**
   * How long an inbound connection may take to deliver its first valid message (decoded, addressed to this
   * node by a peer, authenticated with `auth`) before it is closed (`refused.E_HANDSHAKE_TIMEOUT`; 5 s).
   */
  handshakeTimeoutMs?: number;
  /**
   * Idle time before TCP keepalive probes a connection (default 10 s; Node then probes every second, 10
   * times).
   * It notices a peer that vanished without closing (power loss, partition) on a connection with nothing in
   * flight: inbound ones, and outbound ones between sends.
   */
  keepAliveMs?: number;
  /**
   * How long frames written to a peer may go unacknowledged before the connection is taken for dead and
   * replaced (`stats.stalls`; default 2 s). The receiver acknowledges every frame with one byte on the same
   * connection. Keepalive cannot notice a dead path while data is in flight: the kernel retransmits it with
   * backoff for about 15 minutes, so after a partition heals a half-open connection could wait minutes for
   * its next retransmission, and a connect to a vanished host waits on SYN retries the same way.
   */
  stallMs?: number;
  /** Where the transport reports what it survived (a server error after listening). */
  log?: (line: string) => void;
}

/**
 * What the transport did; `refused` counts inbound messages dropped by validation and inbound connections
 * closed by a limit, with the reason.
 */
export interface TransportStats {
  sent: number;
  received: number;
  /** Outbound messages dropped: the oldest held for a peer that is down, beyond the cap, or to an unknown peer. */
  dropped: number;
  refused: Record<string, number>;
  bytesOut: number;
  bytesIn: number;
  connects: number;
  /** Errors the listening server reported after it was up (accept failures: EMFILE, ENFILE), by code. */
  serverErrors: Record<string, number>;
  /** Outbound connections replaced because their frames went unacknowledged for `stallMs` (or never came up). */
  stalls: number;
}

const RECONNECT_MIN_MS = 50;
/** Messages held for a peer while its connection is down. */
const MAX_QUEUED = 1024;
const RECONNECT_MAX_MS = 1000;
const KEEPALIVE_MS = 10_000;
const HANDSHAKE_MS = 5000;
const MAX_STRANGERS = 16;
/**
 * The largest message Raft sends here is an App with one KV compare-and-set at its bounds (key 1 KiB,
 * expected and value 1 MiB each: about 2 MiB); other Apps are batched to 1 MiB, snapshot chunks are 64 KiB.
 * Twice that.
 */
const FIRST_FRAME_BYTES = 4 << 20;
const STALL_MS = 2000;

/** One outbound connection to a peer, with the frames waiting for it to connect. */
class PeerLink {
  socket: Socket | null = null;
  connected = false;
  queue: Uint8Array[] = [];
  queuedBytes = 0;
  backoffMs = RECONNECT_MIN_MS;
  retry: NodeJS.Timeout | null = null;
  /** Frames written on `socket` that the peer has not acknowledged. */
  unacked = 0;
  /** Since when this link has owed the peer a frame with no progress (sent or acknowledged); null: nothing owed. */
  waitingSince: number | null = null;
  /** A stall check is scheduled (`TcpTransport.send`). */
  stallCheck = false;
  constructor(
    readonly id: number,
    readonly addr: Address,
  ) {}
}

/**
 * Raft messages over TCP: one outbound connection per peer (messages to a peer leave in order on it), and
 * whatever inbound connections peers open. Frames are length-prefixed (`encodeFrame`); every message is
 * decoded and validated (`decodeMessage`) and must name this node as `to` and a known peer as `from`.
 * Loss is acceptable to Raft (it retransmits), so a peer that is down or slow costs dropped messages, never
 * unbounded memory. With `auth`, only holders of the cluster key can speak (each frame carries an HMAC tag);
 * without it, run it on a network you trust.
 */
export class TcpTransport {
  readonly stats: TransportStats = {
    sent: 0,
    received: 0,
    dropped: 0,
    refused: {},
    bytesOut: 0,
    bytesIn: 0,
    connects: 0,
    serverErrors: {},
    stalls: 0,
  };
  private readonly links = new Map<number, PeerLink>();
  private readonly hellos = new HelloGuard();
  private readonly inbound: InboundSlots<Socket>;
  private closed = false;

  private constructor(
    private readonly opts: TcpTransportOptions,
    private readonly server: Server,
  ) {
    for (const [id, addr] of opts.peers) if (id !== opts.id) this.links.set(id, new PeerLink(id, addr));
    this.inbound = new InboundSlots(
      opts.maxInboundConnections ?? 4 * this.links.size + 8,
      opts.maxStrangers ?? MAX_STRANGERS,
    );
  }

  /** Starts listening; resolves once the port is bound (port 0 picks a free one: see `address`). */
  static listen(opts: TcpTransportOptions): Promise<TcpTransport> {
    return new Promise((resolve, reject) => {
      const server = createServer();
      const t = new TcpTransport(opts, server); // throws E_CONFIG (a rejection here) on a bad limit
      let listening = false;
      server.on('connection', (s) => t.accept(s));
      // Permanent: an 'error' with no listener (EMFILE on accept, long after listen) would crash the process.
      // The server keeps listening after an accept failure; the connection it could not accept is lost.
      server.on('error', (e: NodeJS.ErrnoException) => {
        if (!listening) {
          reject(
            new ElexError(
              'E_LISTEN',
              `cannot listen on ${opts.listen.host}:${opts.listen.port}: ${e.message}`,
            ),
          );
          return;
        }
        const code = e.code ?? 'E_SERVER';
        t.stats.serverErrors[code] = (t.stats.serverErrors[code] ?? 0) + 1;
        opts.log?.(`raft transport: server error: ${e.message}`);
      });
      server.listen(opts.listen.port, opts.listen.host, () => {
        listening = true;
        resolve(t);
      });
    });
  }

  /** Whether frames are sealed and checked with a cluster keyring. */
  get authenticated(): boolean {
    return this.opts.auth !== undefined;
  }

  /** The keyring frames are sealed with (undefined: not keyed). */
  get keyring(): ClusterKeyring | undefined {
    return this.opts.auth;
  }

  get address(): Address {
    const a = this.server.address();
    if (a === null || typeof a === 'string') throw new ElexError('E_LISTEN', 'not listening');
    return { host: a.address, port: a.port };
  }

  /** Sends `m` to `m.to`. Never throws and never blocks: an unreachable peer's messages are dropped. */
  send(m: Message): void {
    const link = this.links.get(m.to);
    if (link === undefined || this.closed) {
      this.stats.dropped++;
      return;
    }
    if (link.waitingSince === null) link.waitingSince = performance.now();
    else if (this.stalled(link) && !link.stallCheck) {
      // Judged after this turn's I/O: after a pause of the event loop a timer that sends runs before the
      // acknowledgements that arrived meanwhile are read, and the connection would be replaced for nothing.
      link.stallCheck = true;
      setImmediate(() => {
        link.stallCheck = false;
        if (this.closed || !this.stalled(link)) return;
        // Unacknowledged (or not connected) for that long: the path is dead. A new connection starts afresh.
        this.stats.stalls++;
        link.waitingSince = null; // counted once: its close starts the next connection
        link.socket?.destroy();
      });
    }
    const bytes = encodeMessage(m);
    const frame = encodeFrame(this.opts.auth === undefined ? bytes : this.opts.auth.seal('raft', bytes));
    const max = this.opts.maxQueueBytes ?? 8 << 20;
    if (link.connected && link.socket !== null) {
      if (link.socket.writableLength > max) {
        this.stats.dropped++;
        return;
      }
      link.socket.write(frame);
      link.unacked++;
      this.stats.sent++;
      this.stats.bytesOut += frame.length;
      return;
    }
    // Until the connection is up, keep the newest messages: a stale heartbeat or append is worth less than a
    // fresh one, and Raft retransmits whatever it still needs.
    link.queue.push(frame);
    link.queuedBytes += frame.length;
    while (link.queue.length > 1 && (link.queuedBytes > max || link.queue.length > MAX_QUEUED)) {
      link.queuedBytes -= link.queue.shift()!.length;
      this.stats.dropped++;
    }
    if (link.socket === null && link.retry === null) this.connect(link);
  }

  /** Whether `link` has a connection that has owed the peer frames, or a connect, for longer than `stallMs`. */
  private stalled(link: PeerLink): boolean {
    return (
      link.socket !== null &&
      link.waitingSince !== null &&
      performance.now() - link.waitingSince > (this.opts.stallMs ?? STALL_MS)
    );
  }

  private connect(link: PeerLink): void {
    const s = createConnection({ host: link.addr.host, port: link.addr.port });
    this.tune(s);
    link.socket = s;
    s.on('connect', () => {
      link.connected = true;
      link.backoffMs = RECONNECT_MIN_MS;
      this.stats.connects++;
      // Keyed: the connection's first frame is a fresh hello (tcp-hello.ts), acknowledged like any frame.
      if (this.opts.auth !== undefined) {
        s.write(helloFrame(this.opts.auth, this.opts.id, link.id, Date.now()));
        link.unacked++;
      }
      for (const f of link.queue) {
        s.write(f);
        link.unacked++;
        this.stats.sent++;
        this.stats.bytesOut += f.length;
      }
      link.queue = [];
      link.queuedBytes = 0;
      // Connected is progress: the stall clock starts again for what was just written.
      link.waitingSince = link.unacked > 0 ? performance.now() : null;
    });
    // Peers write one byte back per frame they read: the only thing they write on our connections.
    s.on('data', (acks: Buffer) => {
      link.unacked = Math.max(0, link.unacked - acks.length);
      link.waitingSince = link.unacked > 0 ? performance.now() : null;
    });
    s.on('error', () => {});
    s.on('close', () => {
      link.socket = null;
      link.connected = false;
      // What was in flight is lost (Raft retransmits); the next connection's clock starts with its first send.
      link.unacked = 0;
      link.waitingSince = null;
      if (this.closed) return;
      // Reconnect only while there is something to send; otherwise the next `send` reconnects.
      link.retry = setTimeout(() => {
        link.retry = null;
        if (!this.closed && link.socket === null && link.queue.length > 0) this.connect(link);
      }, link.backoffMs);
      link.backoffMs = Math.min(RECONNECT_MAX_MS, link.backoffMs * 2);
    });
  }

  private accept(s: Socket): void {
    if (this.closed) {
      s.destroy();
      return;
    }
    // Each held connection may buffer a frame: without caps, anyone who can connect sets our memory use.
    const slot = this.inbound.admit(s);
    if (!slot.admitted) {
      this.refuse('E_TOO_MANY_CONNECTIONS');
      s.destroy();
      return;
    }
    if (slot.evicted !== null) {
      // Refusing instead would let a silent flood hold every slot until its deadline and shut peers out.
      this.refuse('E_STRANGER_EVICTED');
      slot.evicted.destroy();
    }
    this.tune(s);
    readInbound(s, {
      maxFrameBytes: this.opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      maxFirstFrameBytes: this.opts.maxFirstFrameBytes ?? FIRST_FRAME_BYTES,
      handshakeTimeoutMs: this.opts.handshakeTimeoutMs ?? HANDSHAKE_MS,
      receive: (frame) => this.receive(frame),
      ...(this.opts.auth === undefined ? {} : { receiveFirst: (frame: Uint8Array) => this.hello(frame) }),
      refuse: (code) => this.refuse(code),
      known: () => this.inbound.promote(s),
      bytesIn: (n) => {
        this.stats.bytesIn += n;
      },
      closed: () => this.inbound.remove(s),
    });
  }

  /** No-delay (heartbeats are small and latency-bound) and keepalive (a dead peer closes the socket). */
  private tune(s: Socket): void {
    s.setNoDelay(true);
    s.setKeepAlive(true, this.opts.keepAliveMs ?? KEEPALIVE_MS);
  }

  /** Decodes and delivers one frame: whether it was delivered, refused, or failed authentication. */
  private receive(frame: Uint8Array): FrameVerdict {
    let payload = frame;
    if (this.opts.auth !== undefined) {
      try {
        payload = this.opts.auth.open('raft', frame);
      } catch (e) {
        this.refuse(isElexError(e) ? e.code : 'E_AUTH');
        return 'unauthenticated';
      }
    }
    let m: Message;
    try {
      m = decodeMessage(payload, { maxBytes: this.opts.maxFrameBytes });
    } catch (e) {
      this.refuse(isElexError(e) ? e.code : 'E_DECODE');
      return 'refused';
    }
    const wrong =
      m.to !== this.opts.id ? 'E_NOT_ADDRESSED' : !this.links.has(m.from) ? 'E_UNKNOWN_PEER' : null;
    if (wrong !== null) {
      this.refuse(wrong);
      return 'refused';
    }
    this.stats.received++;
    this.opts.onMessage(m);
    return 'delivered';
  }

  /**
   * A keyed connection's first frame: a fresh hello from a peer to this node makes it a peer's connection;
   * anything else (a captured Raft frame replayed, a replayed hello) closes it.
   */
  private hello(frame: Uint8Array): FrameVerdict {
    let h: Hello;
    try {
      h = decodeHello(this.opts.auth!.open('raft-hello', frame));
    } catch (e) {
      // Not sealed for a hello (a captured Raft frame replayed, or no key): as any unauthenticated frame.
      this.refuse(isElexError(e) ? e.code : 'E_AUTH');
      return 'unauthenticated';
    }
    const wrong =
      h.to !== this.opts.id ? 'E_NOT_ADDRESSED' : !this.links.has(h.from) ? 'E_UNKNOWN_PEER' : null;
    const why = wrong ?? this.hellos.refusal(h, Date.now());
    if (why !== null) {
      this.refuse(why);
      return 'unauthenticated';
    }
    return 'delivered';
  }

  private refuse(code: string): void {
    this.stats.refused[code] = (this.stats.refused[code] ?? 0) + 1;
  }

  /** Stops listening and drops every connection; queued messages are discarded. */
  close(): Promise<void> {
    this.closed = true;
    for (const link of this.links.values()) {
      if (link.retry !== null) clearTimeout(link.retry);
      link.socket?.destroy();
      link.queue = [];
    }
    for (const s of this.inbound.all()) s.destroy();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
