import { assert, ElexError, hashString, type Rng, SeededRng, TraceHasher } from '../core/index.js';
import { Accounting } from './accounting.js';
import { SimDisk } from './disk.js';
import { EventQueue, type SimEvent } from './event-queue.js';
import {
  cutPairs,
  DEFAULT_LINK,
  type LinkModel,
  type PartitionSpec,
  sampleLatency,
  validateLink,
} from './network.js';

/** What the simulator calls on a node. Nodes are addressed by dense integer ids in `addNode` order. */
export interface SimNodeHandler {
  /** A message arrived. `payload` is the object passed to `send` (never copied: treat it as immutable). */
  deliver(from: number, payload: unknown, type: string, bytes: number): void;
  /** The node crashed: drop all volatile state. Its disk has already been rolled back. */
  crash?(): void;
  /** The node restarts: rebuild from `sim.disk(id)`. */
  restart?(): void;
}

export interface SimOptions {
  seed: number;
  link?: Partial<LinkModel>;
  /** Keep a human-readable event log (costly; for debugging and scripted tests). */
  trace?: boolean;
  /** Disk sync latency in ms (default 1). */
  syncLatencyMs?: number;
  /** Count per-link traffic (default true; the pure-speed bench turns it off). */
  perLinkAccounting?: boolean;
}

export type NodeStatus = 'up' | 'crashed' | 'paused';

interface NodeState {
  name: string;
  handler: SimNodeHandler;
  disk: SimDisk;
  rng: Rng;
}

/**
 * A node's scalars read by every event, `HOT_STRIDE` per node in one typed array (one cache line per node, the
 * whole table a few tens of KB): up (1/0); epoch (incremented on crash and restart; events scheduled under an
 * older epoch are dropped); paused until; clock skew; clock drift; the virtual time the drift started from.
 */
const HOT_STRIDE = 8;
const H_UP = 0;
const H_EPOCH = 1;
const H_PAUSED = 2;
const H_SKEW = 3;
const H_DRIFT = 4;
const H_DRIFT_FROM = 5;

const KIND_CALL = 0;
const KIND_NODE_CALL = 1;
const KIND_DELIVER = 2;

/**
 * A whole distributed system in one thread: virtual time, a seeded network with faults, node crashes,
 * pauses and clock skew, and disks that lose unsynced writes. Every run is a pure function of the seed and
 * the calls made on it; `traceHash()` fingerprints everything that happened.
 */
export class Simulator {
  readonly seed: number;
  private readonly queue = new EventQueue();
  private readonly nodes: NodeState[] = [];
  /** `nodes[i].handler`, in an array of their own (delivery reads nothing else of the node's state). */
  private readonly handlers: SimNodeHandler[] = [];
  private hot = new Float64Array(0);
  private readonly root: SeededRng;
  private readonly netRng: Rng;
  private readonly streams = new Map<string, Rng>();
  private defaultLink: LinkModel;
  private readonly linkOverrides = new Map<number, LinkModel>();
  /**
   * Per directed link from→to, at `2 * (from * capacity + to)`: the last scheduled in-order delivery time
   * (links are FIFO unless a message is reordered), then the number of partitions cutting the link (a pair
   * can be cut by several overlapping ones). Side by side, a send touches one cache line of this n×n table.
   */
  private links = new Float64Array(0);
  private capacity = 0;
  private readonly partitions = new Map<number, Array<[number, number]>>();
  private nextPartitionId = 1;
  private readonly hasher = new TraceHasher();
  private readonly log: string[] | null;
  private readonly syncLatencyMs: number;
  readonly accounting = new Accounting();
  private clock = 0;
  private running = false;
  eventsProcessed = 0;

  constructor(opts: SimOptions) {
    if (!Number.isSafeInteger(opts.seed))
      throw new ElexError('E_CONFIG', `seed must be an integer within ±(2^53 - 1), got ${opts.seed}`);
    this.seed = opts.seed;
    this.root = new SeededRng(seed32(opts.seed));
    this.netRng = this.root.fork('network');
    this.defaultLink = validateLink({ ...DEFAULT_LINK, ...opts.link });
    this.log = opts.trace ? [] : null;
    this.syncLatencyMs = opts.syncLatencyMs ?? 1;
    this.accounting.perLink = opts.perLinkAccounting ?? true;
  }

  /** Virtual time in ms since the start of the run. */
  get now(): number {
    return this.clock;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** A named, independent random stream (same name → same stream within a run). */
  rng(name: string): Rng {
    let r = this.streams.get(name);
    if (r === undefined) {
      r = this.root.fork(name);
      this.streams.set(name, r);
    }
    return r;
  }

  addNode(name: string, handler: SimNodeHandler): number {
    const id = this.nodes.length;
    if (id >= this.capacity) {
      // Grows by a quarter: the n×n link table is read at random on every send, and the smaller it is the
      // more of it stays in cache (608 nodes: 8.8 MB instead of 16.8 MB with doubling).
      this.grow(Math.max(16, Math.ceil(this.capacity * 1.25), id + 1));
      this.accounting.grow(this.capacity);
    }
    this.hot[id * HOT_STRIDE + H_UP] = 1;
    this.handlers.push(handler);
    this.nodes.push({
      name,
      handler,
      disk: new SimDisk(
        {
          deviceTimer: (n, d, fn) => this.deviceTimer(n, d, fn),
          nodeTimer: (n, d, fn) => this.virtualNodeTimer(n, d, fn),
          now: () => this.clock,
        },
        id,
        this.syncLatencyMs,
      ),
      rng: this.root.fork(`node/${name}`),
    });
    this.traceEvent('add', id, -1, name);
    return id;
  }

  private grow(cap: number): void {
    const links = new Float64Array(2 * cap * cap);
    const old = this.capacity;
    for (let a = 0; a < old; a++) links.set(this.links.subarray(2 * a * old, 2 * (a + 1) * old), 2 * a * cap);
    this.links = links;
    const hot = new Float64Array(HOT_STRIDE * cap);
    hot.set(this.hot);
    this.hot = hot;
    this.capacity = cap;
  }

  name(node: number): string {
    return this.node(node).name;
  }

  /** The node's own random stream. */
  nodeRng(node: number): Rng {
    return this.node(node).rng;
  }

  disk(node: number): SimDisk {
    return this.node(node).disk;
  }

  status(node: number): NodeStatus {
    const o = this.hotOf(node);
    if (this.hot[o + H_UP] === 0) return 'crashed';
    return this.hot[o + H_PAUSED] > this.clock ? 'paused' : 'up';
  }

  isUp(node: number): boolean {
    return this.hot[this.hotOf(node) + H_UP] !== 0;
  }

  /**
   * The node's local clock: after `setClock(skew, drift)` at virtual time T, T + skew + (now − T)(1 + drift).
   * (It was skew + now·(1 + drift): drift set mid-run jumped the clock by T·drift at once.)
   */
  localTime(node: number): number {
    const o = this.hotOf(node);
    const hot = this.hot;
    const drift = hot[o + H_DRIFT];
    if (drift === 0) return hot[o + H_SKEW] + this.clock;
    const from = hot[o + H_DRIFT_FROM];
    // from = 0 evaluates exactly as the old formula (runs that set the clock at t = 0 are unchanged).
    return hot[o + H_SKEW] + from + (this.clock - from) * (1 + drift);
  }

  /** Offset of a node's scalars in `hot` (throws for an unknown node, like `node`). */
  private hotOf(id: number): number {
    if (this.nodes[id] === undefined) this.node(id);
    return id * HOT_STRIDE;
  }

  private node(id: number): NodeState {
    const n = this.nodes[id];
    if (n === undefined) throw new ElexError('E_NO_NODE', `no node ${id}`);
    return n;
  }

  // ---- scheduling ---------------------------------------------------------------------------------

  /** Recycled event objects: the hot loop allocates nothing per message once warm. */
  private pool: SimEvent[] = [];

  private ev(t: number, kind: number, node: number, epoch: number): SimEvent {
    const e = this.pool.pop();
    if (e === undefined)
      return {
        t,
        seq: 0,
        kind,
        node,
        epoch,
        from: -1,
        bytes: 0,
        type: '',
        payload: null,
        fn: null,
        deferKey: Number.NaN,
      };
    e.t = t;
    e.kind = kind;
    e.node = node;
    e.epoch = epoch;
    e.deferKey = Number.NaN;
    return e;
  }

  private release(e: SimEvent): void {
    e.payload = null;
    e.fn = null;
    if (this.pool.length < 65536) this.pool.push(e);
  }

  /** Runs `fn` after `delayMs` of virtual time, whatever happens to the nodes (fault scripts, clients). */
  after(delayMs: number, fn: () => void): void {
    assert(delayMs >= 0 && Number.isFinite(delayMs), 'delay must be finite and >= 0', { delayMs });
    const e = this.ev(this.clock + delayMs, KIND_CALL, -1, 0);
    e.fn = fn;
    this.queue.push(e);
  }

  /**
   * Runs `fn` on `node` after `delayMs` of the node's local time (drift applies). Dropped if the node crashes
   * before then; deferred while it is paused.
   */
  setTimer(node: number, delayMs: number, fn: () => void): void {
    const o = this.hotOf(node);
    assert(delayMs >= 0 && Number.isFinite(delayMs), 'timer delay must be finite and >= 0', { delayMs });
    const hot = this.hot;
    const e = this.ev(this.clock + delayMs / (1 + hot[o + H_DRIFT]), KIND_NODE_CALL, node, hot[o + H_EPOCH]);
    e.fn = fn;
    this.queue.push(e);
  }

  /** Like `setTimer`, but `delayMs` is virtual time (node code the disk calls back: `sync`'s `done`). */
  private virtualNodeTimer(node: number, delayMs: number, fn: () => void): void {
    const o = this.hotOf(node);
    assert(delayMs >= 0 && Number.isFinite(delayMs), 'timer delay must be finite and >= 0', { delayMs });
    const e = this.ev(this.clock + delayMs, KIND_NODE_CALL, node, this.hot[o + H_EPOCH]);
    e.fn = fn;
    this.queue.push(e);
  }

  /**
   * A device's event (a disk's sync completing): virtual time (the node's clock drift does not apply), not
   * deferred by a pause (a stopped process does not stop its disk), dropped once the node's life ends.
   */
  private deviceTimer(node: number, delayMs: number, fn: () => void): void {
    const o = this.hotOf(node);
    assert(delayMs >= 0 && Number.isFinite(delayMs), 'timer delay must be finite and >= 0', { delayMs });
    const epoch = this.hot[o + H_EPOCH];
    this.after(delayMs, () => {
      if (this.hot[o + H_EPOCH] === epoch && this.hot[o + H_UP] !== 0) fn();
    });
  }

  /** Sends a message. Loss, duplication, partitions, latency and reordering are applied here. */
  send(from: number, to: number, payload: unknown, type: string, bytes: number): void {
    const src = this.nodes[from];
    const dst = this.nodes[to];
    if (src === undefined || dst === undefined) throw new ElexError('E_NO_NODE', `no link ${from}→${to}`);
    this.accounting.sent(from, to, type, bytes);
    const link = this.linkOverrides.size
      ? (this.linkOverrides.get(from * 1048576 + to) ?? this.defaultLink)
      : this.defaultLink;
    const links = this.links;
    const idx = 2 * (from * this.capacity + to);
    if (links[idx + 1] > 0) {
      this.accounting.dropped.partition++;
      return;
    }
    const rng = this.netRng;
    if (link.loss > 0 && rng.next() < link.loss) {
      this.accounting.dropped.loss++;
      return;
    }
    const copies = link.duplicate > 0 && rng.next() < link.duplicate ? 2 : 1;
    if (copies === 2) this.accounting.duplicated++;
    for (let c = 0; c < copies; c++) {
      let t = this.clock + sampleLatency(rng, link);
      if (link.reorder > 0 && rng.next() < link.reorder) {
        t += rng.next() * 5 * (link.spikeMs > 0 ? Math.min(link.spikeMs, 50) : 5);
      } else {
        // FIFO per link: never overtake an earlier in-order message.
        if (t < links[idx]) t = links[idx];
        links[idx] = t;
      }
      const e = this.ev(t, KIND_DELIVER, to, 0);
      e.from = from;
      e.payload = payload;
      e.type = type;
      e.bytes = bytes;
      this.queue.push(e);
    }
  }

  // ---- running ------------------------------------------------------------------------------------

  /** Processes one event. Returns false when the queue is empty. */
  step(): boolean {
    const e = this.queue.pop();
    if (e === undefined) return false;
    this.dispatch(e);
    return true;
  }

  private dispatch(e: SimEvent): void {
    if (this.handle(e)) this.release(e);
  }

  /** Runs one event; returns false if the event was re-queued (deferred by a pause) and must not be recycled. */
  private handle(e: SimEvent): boolean {
    this.clock = e.t;
    this.eventsProcessed++;
    const kind = e.kind;
    if (kind === KIND_CALL) {
      this.hasher.event(kind, e.seq);
      this.hasher.time(e.t);
      e.fn!();
      return true;
    }
    const hot = this.hot;
    const o = e.node * HOT_STRIDE;
    if (kind === KIND_NODE_CALL) {
      if (e.epoch !== hot[o + H_EPOCH] || hot[o + H_UP] === 0) return true;
      if (hot[o + H_PAUSED] > e.t) return this.defer(e, hot[o + H_PAUSED]);
      this.hasher.event(kind, e.node, e.seq);
      this.hasher.time(e.t);
      e.fn!();
      return true;
    }
    // KIND_DELIVER. A message held back by a pause belongs to the life it reached: a crash drops it, and a
    // restart before the pause would have ended does not get it (it did, behind newer messages, until session 23).
    if (hot[o + H_UP] === 0 || (!Number.isNaN(e.deferKey) && e.epoch !== hot[o + H_EPOCH])) {
      this.accounting.dropped.down++;
      return true;
    }
    if (hot[o + H_PAUSED] > e.t) {
      e.epoch = hot[o + H_EPOCH];
      return this.defer(e, hot[o + H_PAUSED]);
    }
    this.accounting.received(e.node, e.bytes);
    this.hasher.event(e.from, e.node, e.bytes);
    // When, too: the same deliveries in the same order over slower links are another run.
    this.hasher.time(e.t);
    if (this.log)
      this.log.push(
        `${e.t.toFixed(3)} deliver ${e.type} ${this.nodes[e.from].name}→${this.nodes[e.node].name}`,
      );
    this.handlers[e.node].deliver(e.from, e.payload, e.type, e.bytes);
    return true;
  }

  private defer(e: SimEvent, until: number): false {
    e.t = until;
    this.queue.pushDeferred(e);
    return false;
  }

  /** Runs until virtual time `untilMs` (events at exactly that time included) or the queue empties. */
  runUntil(untilMs: number): void {
    assert(!this.running, 'simulator is not re-entrant');
    this.running = true;
    try {
      const q = this.queue;
      while (q.size > 0 && q.peekTime() <= untilMs) this.dispatch(q.pop()!);
      if (this.clock < untilMs) this.clock = untilMs;
    } finally {
      this.running = false;
    }
  }

  /** Runs for `ms` more of virtual time. */
  runFor(ms: number): void {
    this.runUntil(this.clock + ms);
  }

  /** Runs until `done()` holds (checked after each event) or `limitMs` passes. Returns whether it held. */
  runUntilTrue(done: () => boolean, limitMs: number): boolean {
    const end = this.clock + limitMs;
    const q = this.queue;
    while (!done()) {
      if (q.size === 0 || q.peekTime() > end) {
        this.clock = Math.max(this.clock, end);
        return done();
      }
      this.dispatch(q.pop()!);
    }
    return true;
  }

  get pendingEvents(): number {
    return this.queue.size;
  }

  // ---- faults -------------------------------------------------------------------------------------

  /** Crash: volatile state lost, unsynced disk writes lost, pending timers dropped, inbound traffic dropped. */
  crash(node: number): void {
    const n = this.node(node);
    const o = node * HOT_STRIDE;
    if (this.hot[o + H_UP] === 0) return;
    this.hot[o + H_UP] = 0;
    this.hot[o + H_EPOCH]++;
    this.hot[o + H_PAUSED] = 0;
    n.disk.crash();
    this.traceEvent('crash', node);
    n.handler.crash?.();
  }

  /** Restart from durable storage. */
  restart(node: number): void {
    const n = this.node(node);
    const o = node * HOT_STRIDE;
    if (this.hot[o + H_UP] !== 0) return;
    this.hot[o + H_UP] = 1;
    this.hot[o + H_EPOCH]++;
    this.traceEvent('restart', node);
    n.handler.restart?.();
  }

  /** No processing for `ms` (GC pause, SIGSTOP): its timers and inbound messages wait, in order. */
  pause(node: number, ms: number): void {
    const o = this.hotOf(node);
    if (this.hot[o + H_UP] === 0) return;
    this.hot[o + H_PAUSED] = Math.max(this.hot[o + H_PAUSED], this.clock + ms);
    this.traceEvent('pause', node, ms);
  }

  /** Clock skew (ms added to local time) and drift (fractional rate error, e.g. 0.001 = 1 ms/s fast). */
  setClock(node: number, skewMs: number, drift: number): void {
    assert(drift > -0.5 && drift < 0.5, 'drift must be within ±0.5', { drift });
    const o = this.hotOf(node);
    this.hot[o + H_SKEW] = skewMs;
    this.hot[o + H_DRIFT] = drift;
    this.hot[o + H_DRIFT_FROM] = this.clock;
    this.traceEvent('clock', node, skewMs);
  }

  /** Cuts links as the spec says until `heal(id)`. Returns the partition id. */
  partition(spec: PartitionSpec): number {
    const pairs = cutPairs(spec);
    // Validate every node before cutting anything: a throw half-way left the earlier pairs cut for good.
    for (const [a, b] of pairs) {
      this.node(a);
      this.node(b);
    }
    for (const [a, b] of pairs) this.links[2 * (a * this.capacity + b) + 1]++;
    const id = this.nextPartitionId++;
    this.partitions.set(id, pairs);
    this.traceEvent('partition', id, pairs.length);
    return id;
  }

  /** Heals one partition, or all of them. */
  heal(id?: number): void {
    const ids = id === undefined ? [...this.partitions.keys()] : [id];
    for (const pid of ids) {
      const pairs = this.partitions.get(pid);
      if (pairs === undefined) continue;
      for (const [a, b] of pairs) this.links[2 * (a * this.capacity + b) + 1]--;
      this.partitions.delete(pid);
      this.traceEvent('heal', pid);
    }
  }

  /** Whether `from` → `to` is currently cut by a partition. */
  isCut(from: number, to: number): boolean {
    return this.links[2 * (from * this.capacity + to) + 1] > 0;
  }

  get activePartitions(): number {
    return this.partitions.size;
  }

  /** Changes the default link model (all links without an override). */
  setDefaultLink(model: Partial<LinkModel>): void {
    this.defaultLink = validateLink({ ...this.defaultLink, ...model });
    this.traceEvent('link', -1);
  }

  get link(): Readonly<LinkModel> {
    return this.defaultLink;
  }

  /** Overrides the model of one directed link; `null` removes the override. */
  setLink(from: number, to: number, model: Partial<LinkModel> | null): void {
    const key = from * 1048576 + to;
    if (model === null) this.linkOverrides.delete(key);
    else this.linkOverrides.set(key, validateLink({ ...this.defaultLink, ...model }));
    this.traceEvent('link', from, to);
  }

  // ---- trace --------------------------------------------------------------------------------------

  private traceEvent(what: string, a: number, b = 0, s = ''): void {
    this.hasher.event(hashString(what), a, b);
    if (s) this.hasher.str(s);
    this.hasher.float(this.clock);
    if (this.log) this.log.push(`${this.clock.toFixed(3)} ${what} ${a} ${b} ${s}`.trimEnd());
  }

  /** Adds a caller-defined fact to the trace (scenarios record client operations this way). */
  note(what: string, ...words: number[]): void {
    this.traceEvent(what, words[0] ?? 0, words[1] ?? 0);
  }

  /** Fingerprint of every event so far: equal seeds and calls give equal hashes. */
  traceHash(): string {
    return this.hasher.digest();
  }

  get traceEvents(): number {
    return this.hasher.count;
  }

  /** The event log (only with `trace: true`). */
  traceLog(): readonly string[] {
    return this.log ?? [];
  }
}

/**
 * The 32 bits the generators take, with the seed's high bits folded in (the generators read `seed | 0`, so
 * seed s and s + 2^32 were one run). A seed within 32 bits is itself: the reports of every such seed stand.
 */
function seed32(seed: number): number {
  if (seed >= -(2 ** 31) && seed < 2 ** 32) return seed;
  const high = Math.floor(seed / 2 ** 32);
  return ((seed >>> 0) ^ Math.imul(high | 0, 0x9e3779b1) ^ Math.imul((high / 2 ** 32) | 0, 0x85ebca6b)) >>> 0;
}
