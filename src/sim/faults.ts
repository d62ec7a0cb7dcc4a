import { ElexError, type Rng, shuffle } from '../core/index.js';
import type { Simulator } from './simulator.js';

/** The fault kinds a schedule can draw. Each lasts `durationMs` and is then undone. */
export const FAULT_KINDS = [
  'crash',
  'partition-symmetric',
  'partition-asymmetric',
  'partition-partial',
  'loss',
  'duplicate',
  'reorder',
  'spike',
  'pause',
  'clock-skew',
  'disk-stall',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  atMs: number;
  kind: FaultKind;
  durationMs: number;
  /** Nodes affected (crash/pause/skew/stall: the victims; partitions: one side or the cut's source). */
  nodes: number[];
  /** Second side for partitions (asymmetric: the cut's destination; partial: excludes bridges). */
  others: number[];
  /** Loss/duplicate/reorder/spike probability, or skew in ms for clock-skew. */
  amount: number;
}

export function parseFaultKinds(spec: string): FaultKind[] {
  if (spec === 'none') return [];
  if (spec === 'all') return [...FAULT_KINDS];
  const kinds = spec.split(',').map((s) => s.trim());
  const seen = new Set<string>();
  for (const k of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(k)) {
      throw new ElexError(
        'E_CONFIG',
        `unknown fault kind '${k}' (expected none, all, or ${FAULT_KINDS.join(', ')})`,
      );
    }
    // A repeated kind would double its weight in the random schedule and be reported twice (as listOption,
    // which refuses a name listed twice in the other list options; until session 25 this one accepted it).
    if (seen.has(k)) throw new ElexError('E_CONFIG', `fault kind '${k}' twice in one list`);
    seen.add(k);
  }
  return kinds as FaultKind[];
}

export interface ScheduleOptions {
  nodes: number;
  durationMs: number;
  kinds: readonly FaultKind[];
  /** Mean gap between fault starts. */
  meanGapMs: number;
  /** Mean fault duration. */
  meanDurationMs: number;
  /** Most nodes one crash/pause fault may take at once (keep a quorum alive if you want liveness). */
  maxVictims?: number;
  /** Upper bound for loss probability draws (default 0.3). */
  maxLoss?: number;
}

/** Draws a fault schedule from `rng`: a pure function of the stream and the options. */
export function randomSchedule(rng: Rng, o: ScheduleOptions): Fault[] {
  const faults: Fault[] = [];
  if (o.kinds.length === 0 || o.nodes < 2) return faults;
  const maxVictims = Math.max(1, o.maxVictims ?? Math.floor((o.nodes - 1) / 2));
  let t = o.meanGapMs * rng.next();
  while (t < o.durationMs) {
    const kind = o.kinds[rng.int(o.kinds.length)];
    const durationMs = Math.max(1, Math.round(o.meanDurationMs * (0.25 + 1.5 * rng.next())));
    const ids = shuffle(rng, [...Array(o.nodes).keys()]);
    const victims = ids.slice(0, 1 + rng.int(maxVictims));
    const split = 1 + rng.int(o.nodes - 1);
    let nodes = victims;
    let others: number[] = [];
    let amount = 0;
    switch (kind) {
      case 'partition-symmetric':
      case 'partition-asymmetric':
        nodes = ids.slice(0, split);
        others = ids.slice(split);
        break;
      case 'partition-partial': {
        // one bridge sees both sides
        const rest = ids.slice(1);
        const s = Math.max(1, Math.min(rest.length - 1, split));
        nodes = rest.slice(0, s);
        others = rest.slice(s);
        amount = ids[0];
        break;
      }
      case 'loss':
        amount = (o.maxLoss ?? 0.3) * rng.next();
        break;
      case 'duplicate':
      case 'reorder':
      case 'spike':
        amount = 0.05 + 0.25 * rng.next();
        break;
      case 'clock-skew':
        amount = Math.round((rng.next() - 0.5) * 2000);
        break;
      default:
        break;
    }
    faults.push({ atMs: Math.round(t), kind, durationMs, nodes, others, amount });
    t += o.meanGapMs * (0.5 + rng.next());
  }
  return faults;
}

/** Hooks a scenario can pass to react to faults (e.g. to record a crash time). */
export interface FaultHooks {
  onStart?(f: Fault): void;
  onEnd?(f: Fault): void;
  /** Map schedule node indexes to simulator ids (default: identity). */
  nodeId?(i: number): number;
}

/**
 * Schedules every fault on the simulator: starts at `atMs`, undone after `durationMs`.
 * Link-level faults change the default link and restore the previous value when they end.
 */
export function installSchedule(sim: Simulator, faults: readonly Fault[], hooks: FaultHooks = {}): void {
  const id = hooks.nodeId ?? ((i: number) => i);
  for (const f of faults) {
    sim.after(Math.max(0, f.atMs - sim.now), () => {
      hooks.onStart?.(f);
      const undo = applyFault(sim, f, id);
      sim.after(f.durationMs, () => {
        undo();
        hooks.onEnd?.(f);
      });
    });
  }
}

const LINK_FIELD = { loss: 'loss', duplicate: 'duplicate', reorder: 'reorder', spike: 'spikeProb' } as const;
type LinkField = (typeof LINK_FIELD)[keyof typeof LINK_FIELD];

/** Per simulator and link field: the value before any fault, and the amounts of the faults now active. */
const activeLinkFaults = new WeakMap<Simulator, Map<LinkField, { base: number; amounts: number[] }>>();

/**
 * Overlapping faults of one kind compose: the worst active amount applies, and the pre-fault value returns
 * only when the last one ends. (Saving "the value before" per fault restored the wrong value on overlap.)
 */
function linkFault(sim: Simulator, field: LinkField, amount: number): () => void {
  let fields = activeLinkFaults.get(sim);
  if (fields === undefined) {
    fields = new Map();
    activeLinkFaults.set(sim, fields);
  }
  let state = fields.get(field);
  if (state === undefined) {
    state = { base: sim.link[field], amounts: [] };
    fields.set(field, state);
  }
  const s = state;
  s.amounts.push(amount);
  sim.setDefaultLink({ [field]: Math.max(...s.amounts) });
  return () => {
    s.amounts.splice(s.amounts.indexOf(amount), 1);
    if (s.amounts.length === 0) {
      fields.delete(field);
      sim.setDefaultLink({ [field]: s.base });
    } else sim.setDefaultLink({ [field]: Math.max(...s.amounts) });
  };
}

/**
 * Per simulator and node: the crash faults holding it down, and the clock-skew faults on it (oldest first).
 * Overlapping faults on one node compose like link faults: a node crashed by two faults restarts when the
 * last ends, and while several skews are active the latest applies, the one before returning when it ends.
 * (Each fault used to undo itself regardless: the first crash to end restarted a node another still held
 * down, and the first skew to end reset the clock under another.)
 */
const activeNodeFaults = new WeakMap<
  Simulator,
  {
    crashes: Map<number, number>;
    skews: Map<number, Array<{ skew: number; drift: number }>>;
    /** Nodes crashed for good (`crashForGood`): no crash fault ending restarts them. */
    gone: Set<number>;
  }
>();

function nodeFaults(sim: Simulator) {
  let s = activeNodeFaults.get(sim);
  if (s === undefined) {
    s = { crashes: new Map(), skews: new Map(), gone: new Set() };
    activeNodeFaults.set(sim, s);
  }
  return s;
}

function crashFault(sim: Simulator, nodes: readonly number[]): () => void {
  const { crashes, gone } = nodeFaults(sim);
  // Only nodes that are up, or down by another crash fault, are this fault's: one taken down otherwise (a
  // scripted crash, a failed assertion, a category crashed for good) must not come back when it ends.
  const mine = nodes.filter((n) => sim.status(n) !== 'crashed' || crashes.has(n));
  for (const n of mine) {
    crashes.set(n, (crashes.get(n) ?? 0) + 1);
    sim.crash(n);
  }
  return () => {
    for (const n of mine) {
      const left = (crashes.get(n) ?? 1) - 1;
      if (left > 0) crashes.set(n, left);
      else {
        crashes.delete(n);
        if (!gone.has(n)) sim.restart(n);
      }
    }
  };
}

/** Crashes `node` for the rest of the run: a crash fault on it that is active, or comes later, never restarts it. */
export function crashForGood(sim: Simulator, node: number): void {
  nodeFaults(sim).gone.add(node);
  sim.crash(node);
}

function skewFault(sim: Simulator, nodes: readonly number[], amount: number): () => void {
  const { skews } = nodeFaults(sim);
  const entries = nodes.map((n) => {
    const entry = { skew: amount, drift: amount / 1e6 };
    let stack = skews.get(n);
    if (stack === undefined) {
      stack = [];
      skews.set(n, stack);
    }
    stack.push(entry);
    sim.setClock(n, entry.skew, entry.drift);
    return { n, stack, entry };
  });
  return () => {
    for (const { n, stack, entry } of entries) {
      const i = stack.indexOf(entry);
      stack.splice(i, 1);
      if (stack.length === 0) {
        skews.delete(n);
        sim.setClock(n, 0, 0);
      } else if (i === stack.length) {
        const top = stack[stack.length - 1];
        sim.setClock(n, top.skew, top.drift);
      }
    }
  };
}

function applyFault(sim: Simulator, f: Fault, id: (i: number) => number): () => void {
  const nodes = f.nodes.map(id);
  const others = f.others.map(id);
  switch (f.kind) {
    case 'crash':
      return crashFault(sim, nodes);
    case 'pause':
      for (const n of nodes) sim.pause(n, f.durationMs);
      return () => {};
    case 'clock-skew':
      return skewFault(sim, nodes, f.amount);
    case 'disk-stall':
      for (const n of nodes) sim.disk(n).stall(f.durationMs);
      return () => {};
    case 'partition-symmetric': {
      const p = sim.partition({ kind: 'symmetric', sides: [nodes, others] });
      return () => sim.heal(p);
    }
    case 'partition-asymmetric': {
      const p = sim.partition({ kind: 'asymmetric', from: nodes, to: others });
      return () => sim.heal(p);
    }
    case 'partition-partial': {
      const p = sim.partition({ kind: 'partial', sides: [nodes, others], bridges: [id(f.amount)] });
      return () => sim.heal(p);
    }
    case 'loss':
    case 'duplicate':
    case 'reorder':
    case 'spike':
      return linkFault(sim, LINK_FIELD[f.kind], f.amount);
  }
}
