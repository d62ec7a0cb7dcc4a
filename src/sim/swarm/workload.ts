import type { Rng } from '../../core/index.js';
import { COMPLEXITIES, QUERY_TYPES } from '../../learning/index.js';
import type { Command, CoordinatorReplica, CoordinatorStateMachine } from '../../swarm/index.js';
import { extractTargets, routeKind, type SwarmQuery } from '../../swarm/routing/index.js';
import type { Simulator } from '../simulator.js';
import type { SwarmClient } from './client.js';
import type { ConflictSets } from './conflict-sets.js';
import type { SwarmOptions } from './options.js';
import { agentName, type SwarmTopology } from './topology.js';

/** Queries and commands start this long into the run (the agents register from 300 ms). */
const WORK_START_MS = 2000;

/**
 * What the client is asked to do: random queries (Poisson, `queryRate` a second), a control-plane command every
 * 0.5 to 2 s drawn against the control-plane state (now and then a conflict set), the agents' registrations,
 * and the options' scripted queries.
 */
export class Workload {
  /** Conflicting features that activate alone (with at most 3 steps each). */
  private readonly conflictPairs: [string, string][] = [];
  private nextPair = 0;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly client: SwarmClient,
    private readonly rng: Rng,
    private readonly replicas: readonly CoordinatorReplica[],
    private readonly conflicts: ConflictSets,
    private readonly o: SwarmOptions,
  ) {
    const cat = topo.catalog;
    for (const f of cat.features) {
      if (f.activation_order.length > 3) continue;
      for (const g of f.conflicts) {
        const gf = cat.get(g);
        if (gf && f.id < g && gf.activation_order.length <= 3) this.conflictPairs.push([f.id, g]);
      }
    }
  }

  scheduleScriptedQueries(): void {
    for (const x of this.o.extraQueries ?? []) {
      this.sim.after(x.atMs, () => {
        const q: SwarmQuery = {
          id: this.client.nextQueryId(),
          type: x.type,
          text: x.text,
          features: x.features,
        };
        const t = extractTargets(this.topo.catalog, q);
        this.client.sendQuery(q, 'simple', t.categories.length > 1 ? 'cross' : 'intra');
      });
    }
  }

  /** Agent registration (the routing index) through the log, from t = 300 ms. */
  scheduleRegistrations(): void {
    const { sim, client } = this;
    sim.after(300, () => {
      this.topo.catalog.features.forEach((f, i) => {
        const cmd: Command = { op: 'register_agent', agent: agentName(f.id), feature: f.id, at_ms: 0 };
        sim.after(Math.floor(i / 40) * 50, () =>
          client.issueCommand(cmd, 'register', (r, reason) => client.recordCommand(cmd, r, reason)),
        );
      });
    });
  }

  /** Queries until the run's end, commands until 10 s before it. */
  start(): void {
    if (this.o.queryRate > 0) this.sim.after(WORK_START_MS, () => this.scheduleQuery());
    this.sim.after(WORK_START_MS + 1000, () => this.scheduleCommand());
  }

  private scheduleQuery(): void {
    const gap = -Math.log(1 - this.rng.next()) * (1000 / this.o.queryRate);
    this.sim.after(gap, () => {
      if (this.sim.now >= this.o.durationMs) return;
      this.issueQuery();
      this.scheduleQuery();
    });
  }

  private scheduleCommand(): void {
    this.sim.after(500 + this.rng.next() * 1500, () => {
      if (this.sim.now >= this.o.durationMs - 10_000) return;
      this.issueCommand();
      this.scheduleCommand();
    });
  }

  private issueQuery(): void {
    const { rng } = this;
    const { features } = this.topo.catalog;
    const F = features.length;
    const id = this.client.nextQueryId();
    const type = QUERY_TYPES[rng.int(QUERY_TYPES.length)];
    const complexity = COMPLEXITIES[rng.int(COMPLEXITIES.length)];
    const u = rng.next();
    let q: SwarmQuery;
    if (u < 0.02) {
      q = { id, type, text: 'how is the weather in the core network today' };
    } else if (u < 0.72) {
      const f = features[rng.int(F)];
      q =
        rng.next() < 0.5
          ? { id, type, text: `How do I tune ${f.id} (${f.name})?` }
          : { id, type, text: 'question about one feature', features: [f.id] };
    } else {
      const a = features[rng.int(F)];
      let b = features[rng.int(F)];
      for (let k = 0; k < 8 && b.category === a.category; k++) b = features[rng.int(F)];
      q = { id, type, text: `Does ${a.id} interact with ${b.id}?`, features: [a.id, b.id] };
    }
    q.context = { complexity };
    // The route the coordinators will take, not the one meant: a name shared by features of two categories
    // ("Location Support") makes a one-feature question cross, and its answers are checked against the barrier.
    this.client.sendQuery(q, complexity, routeKind(extractTargets(this.topo.catalog, q)));
  }

  /** Oracle view for the workload generator: the most advanced live replica. */
  private oracle(): CoordinatorStateMachine | null {
    let best: CoordinatorReplica | null = null;
    for (const r of this.replicas)
      if (r.up && (best === null || r.appliedIndex > best.appliedIndex)) best = r;
    return best?.machine ?? null;
  }

  private issueCommand(): void {
    const m = this.oracle();
    if (m === null) return;
    const { conflicts } = this;
    const u = this.rng.next();
    if (conflicts.open === null && this.conflictPairs.length > 0 && u < 0.15 && this.issueConflictSet(m))
      return;
    if (conflicts.open !== null && u < 0.5) return; // no other activations while a conflict set is open
    const cmd = this.randomCommand(m, u);
    if (cmd === null) return;
    if (conflicts.open !== null && (cmd.op === 'activate' || cmd.op === 'deactivate')) return;
    this.client.issueCommand(cmd, 'workload', (r, reason) => this.client.recordCommand(cmd, r, reason));
  }

  /** The next conflict pair both of whose features can activate now, if any, as a new conflict set. */
  private issueConflictSet(m: CoordinatorStateMachine): boolean {
    const { C } = this.topo;
    const { rng, client, conflictPairs } = this;
    const at_ms = 0;
    for (let tries = 0; tries < conflictPairs.length; tries++) {
      const [a, b] = conflictPairs[this.nextPair++ % conflictPairs.length];
      const da = m.dependencyCheck(a);
      const db = m.dependencyCheck(b);
      if (!(da.ok && db.ok && da.can_activate_with_prerequisites && db.can_activate_with_prerequisites))
        continue;
      const set = this.conflicts.begin(a, b);
      // The two activations go, at the same instant, to two different coordinators.
      const first = rng.int(C);
      const targets = [first, (first + 1 + rng.int(C - 1)) % C];
      for (const [k, f] of [a, b].entries())
        client.issueCommand(
          { op: 'activate', feature: f, with_prerequisites: true, at_ms },
          'conflict',
          (r, reason) => {
            client.recordCommand({ op: 'activate', feature: f, at_ms }, r, reason);
            this.conflicts.settle(set);
          },
          targets[k],
        );
      return true;
    }
    return false;
  }

  /** A random activation, deactivation, parameter change or safe-zone update (null: nothing to change). */
  private randomCommand(m: CoordinatorStateMachine, u: number): Command | null {
    const { rng } = this;
    const cat = this.topo.catalog;
    const at_ms = 0;
    const active = m.activeFeatures();
    if (u < 0.45) {
      const f = cat.features[rng.int(cat.features.length)];
      return { op: 'activate', feature: f.id, with_prerequisites: rng.next() < 0.7, at_ms };
    }
    if (u < 0.6 && active.length > 0) {
      const f = active[rng.int(active.length)];
      return { op: 'deactivate', feature: f, cascade: rng.next() < 0.3, at_ms };
    }
    if (u < 0.88 && cat.zones.length > 0) {
      const withZones = active.filter((f) => cat.zonesFor(f).length > 0);
      if (withZones.length === 0) return null;
      const f = withZones[rng.int(withZones.length)];
      const zs = cat.zonesFor(f);
      const z = zs[rng.int(zs.length)];
      const zone = m.zone(z.parameter) ?? z;
      const cur = m.value(f, z.parameter) ?? (zone.safe_min + zone.safe_max) / 2;
      const step = rng.next() < 0.1 ? 0.5 : 0.05;
      const v = cur === 0 ? (zone.safe_max - zone.safe_min) * 0.01 : cur * (1 + step * (rng.next() * 2 - 1));
      return { op: 'set_parameter', feature: f, parameter: z.parameter, value: Number(v.toFixed(3)), at_ms };
    }
    const z = cat.zones[rng.int(cat.zones.length)];
    const zone = m.zone(z.parameter) ?? z;
    const span = zone.safe_max - zone.safe_min;
    const bad = rng.next() < 0.1;
    return {
      op: 'update_safe_zone',
      parameter: z.parameter,
      zone: {
        absolute_min: zone.absolute_min,
        absolute_max: zone.absolute_max,
        safe_min: bad ? zone.safe_max + 1 : Math.max(zone.absolute_min, zone.safe_min + span * 0.05),
        safe_max: bad ? zone.safe_min : zone.safe_max,
        change_limit_percent: zone.change_limit_percent,
        cooldown_seconds: zone.cooldown_seconds,
      },
      at_ms,
    };
  }
}
