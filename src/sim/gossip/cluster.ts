import { CounterMetrics } from '../../core/index.js';
import { type GossipConfig, GossipDriver, type GossipEvent, GossipNode } from '../../gossip/index.js';
import { Simulator } from '../simulator.js';

/** IPv4 (20) + UDP (8) header bytes added to every datagram's accounted size: every byte on the wire. */
export const WIRE_OVERHEAD_BYTES = 28;

export interface ClusterOptions {
  members: number;
  seed: number;
  loss?: number;
  config?: Partial<GossipConfig>;
  /** How often the driver calls `tick` (the core's timers have this granularity). */
  tickMs?: number;
  /** How many of the first members act as seeds. */
  seeds?: number;
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
  private readonly drivers: Array<GossipDriver | null> = [];
  readonly metrics = new CounterMetrics();
  private readonly index = new Map<string, number>();
  private readonly generation: number[] = [];
  private readonly bootToken: number[] = [];
  private readonly seedNames: string[];
  private readonly config: Partial<GossipConfig>;
  private readonly tickMs: number;
  /** Harness hook: every event of every member, with the observer's index. */
  onEvent: ((observer: number, e: GossipEvent) => void) | null = null;

  constructor(o: ClusterOptions) {
    this.sim = new Simulator({
      seed: o.seed,
      link: { profile: 'lan', loss: o.loss ?? 0 },
      perLinkAccounting: false,
    });
    this.config = o.config ?? {};
    this.tickMs = o.tickMs ?? 200;
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
    const driver = new GossipDriver(
      node,
      {
        send: (to, data, kind) => {
          const j = this.index.get(to);
          if (j !== undefined) this.sim.send(i, j, data, kind, data.length + WIRE_OVERHEAD_BYTES);
        },
      },
      { now: () => this.sim.localTime(i) },
    );
    this.drivers[i] = driver;
    const loop = () => {
      if (this.bootToken[i] !== token) return;
      driver.tick();
      this.sim.setTimer(i, this.tickMs, loop);
    };
    this.sim.setTimer(i, this.sim.nodeRng(i).next() * this.tickMs, loop);
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
