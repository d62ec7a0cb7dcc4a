import { CounterMetrics } from '../../core/index.js';
import {
  type GossipConfig,
  GossipDriver,
  type GossipEvent,
  GossipNode,
  type GossipTransport,
  type Outbound,
} from '../../gossip/index.js';
import { Simulator } from '../simulator.js';

/** IPv4 (20) + UDP (8) header bytes added to every datagram's accounted size: every byte on the wire. */
export const WIRE_OVERHEAD_BYTES = 28;

export interface ClusterOptions {
  members: number;
  seed: number;
  loss?: number;
  config?: Partial<GossipConfig>;
  /**
   * Fixed tick period (the old polling driver). Unset: the driver ticks each member exactly at its core's
   * `nextDeadline()` (a heartbeat or gossip round, a phi crossing, a suspicion timeout, batched rumors),
   * which is what makes 607 members cheap to simulate.
   */
  tickMs?: number;
  /** How many of the first members act as seeds. */
  seeds?: number;
}

interface NodeDriver {
  receive(datagram: Uint8Array): void;
  leave(): void;
}

/**
 * Drives one core on simulator timers: one timer per member, set to the core's `nextDeadline()` (pulled in
 * after a datagram when the deadline moved earlier). Superseded timers fire and do nothing. `alive()` is false
 * once the member crashed or left (its timers stop).
 */
export class DeadlineDriver {
  private armedAt = Number.POSITIVE_INFINITY;
  private armSeq = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly id: number,
    readonly core: GossipNode,
    private readonly transport: GossipTransport,
    private readonly alive: () => boolean,
  ) {}

  start(): void {
    this.armedAt = Number.NEGATIVE_INFINITY;
    this.setTimer(0);
  }

  private setTimer(delay: number): void {
    const seq = ++this.armSeq;
    this.sim.setTimer(this.id, delay, () => {
      if (seq !== this.armSeq || !this.alive()) return; // superseded by an earlier deadline, or gone
      this.armedAt = Number.POSITIVE_INFINITY;
      this.flush(this.core.tick(this.sim.localTime(this.id)));
      this.arm(1);
    });
  }

  receive(datagram: Uint8Array): void {
    this.flush(this.core.handle(datagram, this.sim.localTime(this.id)));
    this.arm();
  }

  leave(): void {
    this.flush(this.core.leave(this.sim.localTime(this.id)));
  }

  /** `core.sendUser`, sent at once. */
  sendUser(payload: Uint8Array, fanout: number, accept?: (member: string) => boolean): void {
    this.flush(this.core.sendUser(payload, fanout, accept));
  }

  /** Sets the timer if the core's deadline is earlier than the one already set. */
  private arm(floorMs = 0): void {
    const due = this.core.nextDeadline();
    if (due >= this.armedAt) return;
    this.armedAt = due;
    const delay = due - this.sim.localTime(this.id);
    // Floors: float rounding must not schedule a timer that does not advance time, and right after a tick
    // the deadline is in the future (a deadline not moving past a tick would spin: 1 ms guards that).
    this.setTimer(delay > floorMs ? Math.max(delay, 0.01) : floorMs);
  }

  private flush(out: Outbound[]): void {
    for (let i = 0; i < out.length; i++) this.transport.send(out[i].to, out[i].data, out[i].kind);
  }
}

/** Member names: the swarm's 14 coordinators then its feature agents. */
export function memberName(i: number): string {
  return i < 14 ? `coord-${String(i).padStart(2, '0')}` : `agent-${String(i - 14).padStart(3, '0')}`;
}

/**
 * The simulator driver of the gossip core: one `GossipNode` per simulated node, datagrams carried as
 * `Uint8Array`s with their real encoded size plus UDP/IP headers, ticks on node-local timers. Crash drops the
 * core (volatile state); restart boots a new generation that joins through the seeds.
 */
export class GossipCluster {
  readonly sim: Simulator;
  readonly names: string[] = [];
  readonly nodes: Array<GossipNode | null> = [];
  private readonly drivers: Array<NodeDriver | null> = [];
  readonly metrics = new CounterMetrics();
  private readonly index = new Map<string, number>();
  private readonly generation: number[] = [];
  private readonly bootToken: number[] = [];
  private readonly seedNames: string[];
  private readonly config: Partial<GossipConfig>;
  private readonly tickMs: number | undefined;
  /** Harness hook: every event of every member, with the observer's index. */
  onEvent: ((observer: number, e: GossipEvent) => void) | null = null;

  constructor(o: ClusterOptions) {
    this.sim = new Simulator({
      seed: o.seed,
      link: { profile: 'lan', loss: o.loss ?? 0 },
      perLinkAccounting: false,
    });
    this.config = o.config ?? {};
    this.tickMs = o.tickMs;
    for (let i = 0; i < o.members; i++) {
      const name = memberName(i);
      this.names.push(name);
      this.index.set(name, i);
    }
    this.seedNames = this.names.slice(0, Math.min(o.seeds ?? 3, o.members));
    for (let i = 0; i < o.members; i++) {
      const id = i;
      this.nodes.push(null);
      this.drivers.push(null);
      this.generation.push(0);
      this.bootToken.push(0);
      this.sim.addNode(this.names[i], {
        deliver: (_from, payload) => this.drivers[id]?.receive(payload as Uint8Array),
        crash: () => {
          this.nodes[id] = null;
          this.drivers[id] = null;
          this.bootToken[id]++;
        },
        restart: () => this.boot(id),
      });
    }
  }

  get size(): number {
    return this.names.length;
  }

  indexOf(name: string): number {
    return this.index.get(name) ?? -1;
  }

  /** Starts (or restarts, as a new generation) member `i`. */
  boot(i: number): void {
    const gen = ++this.generation[i];
    const token = ++this.bootToken[i];
    const node = new GossipNode({
      name: this.names[i],
      generation: gen,
      seeds: this.seedNames,
      rng: this.sim.nodeRng(i).fork(`gen/${gen}`),
      now: this.sim.localTime(i),
      config: this.config,
      metrics: this.metrics,
    });
    node.subscribe((e) => this.onEvent?.(i, e));
    this.nodes[i] = node;
    const sim = this.sim;
    const transport = {
      send: (to: string, data: Uint8Array, kind: string) => {
        const j = this.index.get(to);
        if (j !== undefined) sim.send(i, j, data, kind, data.length + WIRE_OVERHEAD_BYTES);
      },
    };
    const tickMs = this.tickMs;
    if (tickMs !== undefined) {
      const driver = new GossipDriver(node, transport, { now: () => sim.localTime(i) });
      this.drivers[i] = driver;
      const loop = () => {
        if (this.bootToken[i] !== token) return;
        driver.tick();
        sim.setTimer(i, tickMs, loop);
      };
      sim.setTimer(i, sim.nodeRng(i).next() * tickMs, loop);
      return;
    }
    const driver = new DeadlineDriver(sim, i, node, transport, () => this.bootToken[i] === token);
    this.drivers[i] = driver;
    driver.start();
  }

  bootAll(): void {
    for (let i = 0; i < this.size; i++) this.boot(i);
  }

  crash(i: number): void {
    this.sim.crash(i);
  }

  restart(i: number): void {
    this.sim.restart(i);
  }

  /** Graceful leave: the member announces it and goes quiet (its node stays up in the simulator). */
  leave(i: number): void {
    const d = this.drivers[i];
    if (!d) return;
    d.leave();
    this.nodes[i] = null;
    this.drivers[i] = null;
    this.bootToken[i]++;
  }

  isRunning(i: number): boolean {
    return this.nodes[i] !== null && this.sim.isUp(i);
  }

  /** Whether every running member sees exactly the running members as live and all share one digest hash. */
  converged(): boolean {
    let running = 0;
    for (let i = 0; i < this.size; i++) if (this.isRunning(i)) running++;
    let hash: string | null = null;
    for (let i = 0; i < this.size; i++) {
      const n = this.nodes[i];
      if (!n || !this.sim.isUp(i)) continue;
      if (n.liveCount !== running) return false;
      const h = n.stateHash;
      if (hash === null) hash = h;
      else if (h !== hash) return false;
    }
    return true;
  }

  /** Runs until `cond` holds, checking every `everyMs`; returns the time it held (or null at `limitMs`). */
  runUntil(cond: () => boolean, limitMs: number, everyMs = 100): number | null {
    const end = this.sim.now + limitMs;
    while (this.sim.now < end) {
      if (cond()) return this.sim.now;
      this.sim.runFor(Math.min(everyMs, end - this.sim.now));
    }
    return cond() ? this.sim.now : null;
  }
}
