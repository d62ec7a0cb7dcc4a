import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { type Clock, ElexError, SeededRng } from '../core/index.js';
import {
  type GossipConfig,
  GossipDriver,
  type GossipListener,
  GossipNode,
  type GossipTransport,
  type Liveness,
  makeConfig,
} from '../gossip/index.js';
import { formatAddress, parseAddress } from './address.js';
import type { ClusterKeyring } from './cluster-key.js';
import type { Address } from './tcp-transport.js';
import { bindUdp } from './udp-socket.js';

export interface GossipMemberOptions {
  /** The UDP address to bind; it is also the member's name (`host:port`), which is how peers reach it. */
  listen: Address;
  /**
   * The name to go by instead of the bound address (`host:port` peers can send to, e.g. with a host name, which
   * binding resolves to an IP); default: the bound address.
   */
  advertise?: string;
  /** Members to join through (`host:port`). */
  seeds?: readonly string[];
  /** Overrides of the gossip core's defaults (docs/gossip.md: interval 1 s, fanout 3, phi threshold 8). */
  config?: Partial<GossipConfig>;
  /** How often the core is ticked (the core asks for 100–250 ms). */
  tickMs?: number;
  /**
   * The cluster's keyring: every datagram is sealed with it, and one that does not open under it is dropped
   * before the core's decoder sees it (`UdpStats.unauthenticated`).
   */
  auth?: ClusterKeyring;
}

export interface UdpStats {
  datagramsOut: number;
  datagramsIn: number;
  bytesOut: number;
  bytesIn: number;
  /**
   * Datagrams not sent: the member's name is not a `host:port` this transport can reach (port 0 included), or
   * the socket refused the destination. Names come from the network: none may throw out of a tick.
   */
  unroutable: number;
  /** Datagrams received that failed authentication (with a keyring only). */
  unauthenticated: number;
}

/** Parsed destinations kept; beyond it the cache starts over (parsing a name again is cheap). */
export const MAX_ROUTES = 4096;

/** Datagrams addressed by member name, where a name is the member's `host:port`. */
export class UdpTransport implements GossipTransport {
  readonly stats: UdpStats = {
    datagramsOut: 0,
    datagramsIn: 0,
    bytesOut: 0,
    bytesIn: 0,
    unroutable: 0,
    unauthenticated: 0,
  };
  private readonly routes = new Map<string, Address | null>();
  /** Datagrams handed to the socket whose send has not completed yet. */
  private inFlight = 0;
  private drained: Array<() => void> = [];
  constructor(
    private readonly socket: Socket,
    private readonly auth: ClusterKeyring | undefined,
  ) {}

  /** Resolves once every datagram handed over so far has left the socket. */
  flushed(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /** An inbound datagram's payload, counted; null when it fails authentication (dropped, counted). */
  receive(data: Buffer): Uint8Array | null {
    this.stats.datagramsIn++;
    this.stats.bytesIn += data.length;
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (this.auth === undefined) return bytes;
    try {
      return this.auth.open('gossip', bytes);
    } catch {
      this.stats.unauthenticated++;
      return null;
    }
  }

  /** Destinations parsed and cached (names come from the network, so the cache is bounded). */
  get routeCount(): number {
    return this.routes.size;
  }

  send(to: string, payload: Uint8Array): void {
    let at = this.routes.get(to);
    if (at === undefined) {
      if (this.routes.size >= MAX_ROUTES) this.routes.clear();
      try {
        at = parseAddress(to);
        // Port 0 names no socket (binding to it means "any port"), and Node throws on sending there.
        if (at.port === 0) at = null;
      } catch {
        at = null; // a member named otherwise joined through someone else: unreachable from here
      }
      this.routes.set(to, at);
    }
    if (at === null) {
      this.stats.unroutable++;
      return;
    }
    const data = this.auth === undefined ? payload : this.auth.seal('gossip', payload);
    this.stats.datagramsOut++;
    this.stats.bytesOut += data.length;
    this.inFlight++;
    try {
      this.socket.send(data, at.port, at.host, () => this.sent());
    } catch {
      // A destination the socket refuses at once (Node checks some synchronously): unroutable from now on.
      this.routes.set(to, null);
      this.stats.datagramsOut--;
      this.stats.bytesOut -= data.length;
      this.stats.unroutable++;
      this.sent();
    }
  }

  private sent(): void {
    if (--this.inFlight > 0) return;
    const waiting = this.drained;
    this.drained = [];
    for (const w of waiting) w();
  }
}

/** Milliseconds that never go backwards (the core's phi and timeouts need a monotonic clock). */
const monotonic: Clock = { now: () => performance.now() };

/**
 * Seeds by address: a member is named by the address its datagrams come from, so a seed given by host name
 * (`localhost:7946`) answered from 127.0.0.1 and every answer was dropped as from a stranger; the joiner never
 * got in (a review of session 25).
 */
async function resolveSeeds(seeds: readonly string[], family: 4 | 6): Promise<string[]> {
  return Promise.all(
    seeds.map(async (seed) => {
      const a = parseAddress(seed);
      if (isIP(a.host) !== 0) return seed;
      try {
        const { address } = await lookup(a.host, { family });
        return formatAddress({ host: address, port: a.port });
      } catch (e) {
        throw new ElexError('E_CONFIG', `seed ${seed}: cannot resolve ${a.host} (${(e as Error).message})`);
      }
    }),
  );
}

/**
 * One gossip member on UDP: the gossip core (`GossipNode`, the one `elex simulate gossip` measures) driven by
 * wall-clock ticks and a datagram socket. The generation is the wall-clock start time, so a restarted member
 * supersedes its earlier life. Every datagram goes through the core's strict decoder; the core counts
 * what it refuses (`metrics`).
 */
export class GossipMember {
  private readonly timer: NodeJS.Timeout;
  private stopped: Promise<void> | undefined;
  private constructor(
    readonly name: string,
    readonly core: GossipNode,
    private readonly driver: GossipDriver,
    private readonly socket: Socket,
    private readonly transport: UdpTransport,
    tickMs: number,
  ) {
    this.timer = setInterval(() => driver.tick(), tickMs);
  }

  static async start(o: GossipMemberOptions): Promise<GossipMember> {
    const tickMs = o.tickMs ?? 100;
    // NaN, 0 or less made setInterval tick every millisecond; a tick of two heartbeat intervals or more reads
    // as a stall at every tick (the core then gives every history grace: no failure was ever detected).
    const heartbeat = makeConfig(o.config).heartbeatIntervalMs;
    if (!(Number.isFinite(tickMs) && tickMs > 0 && tickMs < 2 * heartbeat))
      throw new ElexError(
        'E_CONFIG',
        `tickMs must be a positive number of milliseconds below twice the heartbeat interval (${2 * heartbeat}), got ${tickMs}`,
      );
    const { socket, address } = await bindUdp(o.listen);
    const name = o.advertise ?? formatAddress(address);
    let seeds: string[];
    try {
      seeds = await resolveSeeds(o.seeds ?? [], address.host.includes(':') ? 6 : 4);
    } catch (e) {
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      throw e;
    }
    let core: GossipNode;
    try {
      core = new GossipNode({
        name,
        generation: Date.now(),
        seeds: seeds.filter((s) => s !== name),
        rng: new SeededRng(randomBytes(4).readInt32LE(0)),
        now: monotonic.now(),
        config: o.config,
      });
    } catch (e) {
      // The name needs the bound address, so the socket is open when the core refuses its config: give it back.
      await new Promise<void>((resolve) => socket.close(() => resolve()));
      throw e;
    }
    const transport = new UdpTransport(socket, o.auth);
    const driver = new GossipDriver(core, transport, monotonic);
    socket.on('message', (data) => {
      const bytes = transport.receive(data);
      if (bytes !== null) driver.receive(bytes);
    });
    socket.on('error', () => {}); // ICMP unreachable and the like: gossip tolerates loss
    return new GossipMember(name, core, driver, socket, transport, tickMs);
  }

  subscribe(listener: GossipListener): () => void {
    return this.core.subscribe(listener);
  }

  /** Every member this one knows, with its liveness. */
  members(): Array<{ name: string; status: Liveness }> {
    return this.core.view().map((m) => ({ name: m.name, status: m.status }));
  }

  get stats(): UdpStats {
    return this.transport.stats;
  }

  /** Announces the departure (others mark this member `left` instead of waiting to suspect it), then stops. */
  async leave(): Promise<void> {
    this.driver.leave();
    // The departure must leave the socket before it closes: a fixed pause lost it on a loaded machine.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.transport.flushed(), new Promise((r) => (timer = setTimeout(r, 2000)))]);
    // Cleared: left armed, it held a stopping process 2 s after its "left" line.
    clearTimeout(timer);
    await this.stop();
  }

  /**
   * Stops without a word, as a crash would: the others find out through their failure detectors. Again, or
   * after `leave`, it is the same stop (a closed socket cannot be closed twice).
   */
  stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped ??= new Promise((resolve) => this.socket.close(() => resolve()));
    return this.stopped;
  }
}
