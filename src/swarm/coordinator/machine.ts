import { ElexError } from '../../core/index.js';
import type { StateMachine } from '../../core/state-machine.js';
import type { Catalog } from '../catalog.js';
import { type ZoneBounds, zoneProblem } from '../catalog-schema.js';
import {
  type ActivateCommand,
  type Command,
  type DeactivateCommand,
  type Decoded,
  type DeregisterAgentCommand,
  decodeCommand,
  type RegisterAgentCommand,
  type SetParameterCommand,
  type UpdateSafeZoneCommand,
} from './commands.js';
import type {
  CommandResult,
  DependencyCheck,
  InvariantViolation,
  ParameterChange,
  Refusal,
} from './results.js';
import { decodeSnapshot, encodeSnapshot, type SnapshotState } from './snapshot.js';

/** Tolerance of the change-limit comparison, relative, so that 100 → 115 passes a 15 % limit. */
const CHANGE_EPSILON = 1e-9;

interface Activation {
  /** Raft index of the entry that activated it. */
  index: number;
  at_ms: number;
  /** Global activation counter: later activations have larger numbers (orders cascaded deactivation). */
  seq: number;
}

interface ValueRecord {
  value: number;
  /** Leader clock of the last change: the cooldown runs from here. */
  changed_at_ms: number;
  index: number;
  /** Left outside its zone by an `update_safe_zone` (and reported then); cleared when corrected. */
  out_of_zone: boolean;
}

interface AgentRecord {
  feature: string;
  at_ms: number;
  index: number;
}

const key = (feature: string, parameter: string): string => `${feature}\u0000${parameter}`;

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function refuse<R extends Refusal>(r: R): R {
  return r;
}

/**
 * The coordinators' replicated state machine (issue 6): feature activation with prerequisites and conflicts,
 * parameter values within safe zones (change limit and cooldown), safe-zone updates and the agent registry.
 * Pure and deterministic: every decision is a function of the catalogue and the log (time comes from the
 * `at_ms` stamped into each entry). Rules: docs/coordinator.md.
 */
/** Agents the registry holds at most (ADR-002's routing index: 593 features, a few agents each at most). */
export const MAX_REGISTERED_AGENTS = 16_384;

export class CoordinatorStateMachine implements StateMachine {
  private appliedIndex = 0;
  /** max(at_ms) over accepted commands: the state machine's clock never runs backwards. */
  private clockMs = 0;
  private seq = 0;
  private readonly active = new Map<string, Activation>();
  private readonly values = new Map<string, ValueRecord>();
  private readonly zones = new Map<string, ZoneBounds>();
  private readonly agents = new Map<string, AgentRecord>();

  constructor(readonly catalog: Catalog) {
    this.resetZones();
  }

  private resetZones(): void {
    this.zones.clear();
    for (const z of this.catalog.zones) {
      this.zones.set(z.parameter, {
        absolute_min: z.absolute_min,
        absolute_max: z.absolute_max,
        safe_min: z.safe_min,
        safe_max: z.safe_max,
        change_limit_percent: z.change_limit_percent,
        cooldown_seconds: z.cooldown_seconds,
      });
    }
  }

  // ---------------------------------------------------------------- StateMachine

  apply(index: number, command: Uint8Array): CommandResult {
    return this.applyDecoded(index, decodeCommand(command));
  }

  /** `apply` of a command its caller already decoded (the replica reads its `at_ms` first: one decode). */
  applyDecoded(index: number, decoded: Decoded): CommandResult {
    if (!(index > this.appliedIndex)) {
      return refuse({
        ok: false,
        code: 'STALE_INDEX',
        index,
        applied_index: this.appliedIndex,
        message: `entry ${index} is not after the last applied index ${this.appliedIndex}`,
      });
    }
    this.appliedIndex = index;
    if (!decoded.ok) return { ok: false, code: 'MALFORMED', message: `malformed command: ${decoded.reason}` };
    return this.execute(index, decoded.command);
  }

  /** Applies a decoded command at `index`; time is max(at_ms, clock) so it never runs backwards. */
  private execute(index: number, cmd: Command): CommandResult {
    const now = Math.max(cmd.at_ms, this.clockMs);
    let r: CommandResult;
    switch (cmd.op) {
      case 'activate':
        r = this.activate(index, now, cmd);
        break;
      case 'deactivate':
        r = this.deactivate(cmd);
        break;
      case 'set_parameter':
        r = this.setParameter(index, now, cmd);
        break;
      case 'update_safe_zone':
        r = this.updateSafeZone(cmd);
        break;
      case 'register_agent':
        r = this.registerAgent(index, now, cmd);
        break;
      case 'deregister_agent':
        r = this.deregisterAgent(cmd);
        break;
    }
    if (r.ok) this.clockMs = now;
    return r;
  }

  /**
   * Whether `from → to` changes more than `share` of |from| (of the zone's width from 0). Compared directly,
   * or in halves where a side overflows: near Number.MAX_VALUE both |to − from| and the limit are Infinity, and
   * Infinity > Infinity let MAX_VALUE → −MAX_VALUE through a 100 % limit; halving everywhere rounded subnormal
   * values to 0 and refused a change of exactly the limit.
   */
  private changeTooLarge(share: number, from: number, to: number, zone: ZoneBounds): boolean {
    const limit = from !== 0 ? share * Math.abs(from) : share * (zone.safe_max - zone.safe_min);
    const change = Math.abs(to - from);
    if (Number.isFinite(limit) && Number.isFinite(change)) return change > limit * (1 + CHANGE_EPSILON);
    const halfLimit =
      from !== 0 ? share * Math.abs(from / 2) : share * (zone.safe_max / 2) - share * (zone.safe_min / 2);
    return Math.abs(to / 2 - from / 2) > halfLimit * (1 + CHANGE_EPSILON);
  }

  snapshot(): Uint8Array {
    const state: SnapshotState = {
      v: 1,
      catalog: this.catalog.fingerprint,
      clock_ms: this.clockMs,
      seq: this.seq,
      active: [...this.active].sort((a, b) => cmp(a[0], b[0])).map(([f, a]) => [f, a.index, a.at_ms, a.seq]),
      values: [...this.values]
        .sort((a, b) => cmp(a[0], b[0]))
        .map(([k, v]) => {
          const [feature, parameter] = k.split('\u0000');
          return [feature, parameter, v.value, v.changed_at_ms, v.index, v.out_of_zone];
        }),
      zones: [...this.zones]
        .sort((a, b) => cmp(a[0], b[0]))
        .map(([p, z]) => [
          p,
          z.absolute_min,
          z.absolute_max,
          z.safe_min,
          z.safe_max,
          z.change_limit_percent,
          z.cooldown_seconds,
        ]),
      agents: [...this.agents]
        .sort((a, b) => cmp(a[0], b[0]))
        .map(([id, a]) => [id, a.feature, a.at_ms, a.index]),
    };
    return encodeSnapshot(state);
  }

  /** Replaces the whole state. A snapshot that does not decode, or was taken over another catalogue, throws
   *  `E_SNAPSHOT` and leaves the state untouched. */
  restore(snapshot: Uint8Array, index: number): void {
    const s = decodeSnapshot(snapshot);
    // Before session 24 snapshots named the file's own content_hash: still taken where the file's hash is true.
    const legacy = this.catalog.contentHashVerified && s.catalog === this.catalog.metadata.content_hash;
    if (s.catalog !== this.catalog.fingerprint && !legacy) {
      throw new ElexError('E_SNAPSHOT', `snapshot was taken over catalogue ${s.catalog}, not this one`);
    }
    for (const [f] of s.active)
      if (!this.catalog.get(f)) throw new ElexError('E_SNAPSHOT', `unknown feature ${f}`);
    for (const [p] of s.zones)
      if (!this.catalog.zone(p)) throw new ElexError('E_SNAPSHOT', `unknown parameter ${p}`);
    this.appliedIndex = index;
    this.clockMs = s.clock_ms;
    this.seq = s.seq;
    this.active.clear();
    for (const [f, idx, at, seq] of s.active) this.active.set(f, { index: idx, at_ms: at, seq });
    this.values.clear();
    for (const [f, p, value, changed, idx, out] of s.values) {
      this.values.set(key(f, p), { value, changed_at_ms: changed, index: idx, out_of_zone: out });
    }
    this.resetZones();
    for (const [p, amin, amax, smin, smax, limit, cooldown] of s.zones) {
      this.zones.set(p, {
        absolute_min: amin,
        absolute_max: amax,
        safe_min: smin,
        safe_max: smax,
        change_limit_percent: limit,
        cooldown_seconds: cooldown,
      });
    }
    this.agents.clear();
    for (const [id, feature, at, idx] of s.agents) this.agents.set(id, { feature, at_ms: at, index: idx });
  }

  // ---------------------------------------------------------------- commands

  private activate(index: number, now: number, cmd: ActivateCommand): CommandResult {
    const feature = this.catalog.get(cmd.feature);
    if (!feature) return this.unknownFeature(cmd.feature);
    if (this.active.has(feature.id)) {
      return refuse({
        ok: false,
        code: 'ALREADY_ACTIVE',
        feature: feature.id,
        message: `${feature.id} is already active`,
      });
    }
    const missing = feature.activation_order.slice(0, -1).filter((p) => !this.active.has(p));
    if (missing.length > 0 && !cmd.with_prerequisites) {
      return refuse({
        ok: false,
        code: 'MISSING_PREREQUISITE',
        feature: feature.id,
        missing,
        message: `${feature.id} needs ${missing.join(', ')} active first (or with_prerequisites)`,
      });
    }
    const chain = [...missing, feature.id];
    const conflicts = this.conflictsOf(chain);
    if (conflicts.length > 0) {
      return refuse({
        ok: false,
        code: 'CONFLICT',
        feature: feature.id,
        conflicts_with: conflicts,
        message: `${chain.length > 1 ? `the chain of ${feature.id}` : feature.id} conflicts with ${conflicts.join(', ')}`,
      });
    }
    const params = Object.entries(cmd.parameters ?? {}).sort((a, b) => cmp(a[0], b[0]));
    for (const [parameter, value] of params) {
      const bad = this.checkValue(feature.id, parameter, value, now);
      if (bad) return bad;
    }
    // A value a zone update left outside its zone while the feature was inactive would go back into effect:
    // the activation must correct it (before session 25 it went live unmentioned, and flagged, unchecked).
    const corrected = new Set(params.map(([parameter]) => parameter));
    for (const stale of this.outOfZone()) {
      if (!chain.includes(stale.feature)) continue;
      if (stale.feature === feature.id && corrected.has(stale.parameter)) continue;
      const zone = this.zones.get(stale.parameter);
      if (zone === undefined) continue; // a flag comes from a zone update, so its zone is there
      return this.outOfZoneRefusal(
        stale.feature,
        stale.parameter,
        stale.value,
        'safe',
        zone.safe_min,
        zone.safe_max,
      );
    }
    for (const id of chain) this.active.set(id, { index, at_ms: now, seq: ++this.seq });
    const changes = params.map(([parameter, value]) => {
      // Like set_parameter: the value already stored is no change and starts no cooldown.
      const before = this.values.get(key(feature.id, parameter));
      if (before && before.value === value && !before.out_of_zone)
        return { feature: feature.id, parameter, value, previous: before.value };
      return this.write(index, now, feature.id, parameter, value);
    });
    return { ok: true, op: 'activate', activated: chain, parameters: changes };
  }

  /** Active features (and chain members) that conflict with a member of `chain`, sorted. */
  private conflictsOf(chain: readonly string[]): string[] {
    const inChain = new Set(chain);
    const out = new Set<string>();
    for (const id of chain) {
      for (const c of this.catalog.conflicts(id)) if (this.active.has(c) || inChain.has(c)) out.add(c);
    }
    return [...out].sort();
  }

  private deactivate(cmd: DeactivateCommand): CommandResult {
    const feature = this.catalog.get(cmd.feature);
    if (!feature) return this.unknownFeature(cmd.feature);
    if (!this.active.has(feature.id)) {
      return refuse({
        ok: false,
        code: 'NOT_ACTIVE',
        feature: feature.id,
        message: `${feature.id} is not active`,
      });
    }
    const dependents = this.activeDependents(feature.id);
    if (dependents.length > 0 && !cmd.cascade) {
      const direct = this.catalog.dependents(feature.id).filter((d) => this.active.has(d));
      const requiredBy = [...direct].sort();
      return refuse({
        ok: false,
        code: 'REQUIRED_BY',
        feature: feature.id,
        required_by: requiredBy,
        message: `${feature.id} is required by active ${requiredBy.join(', ')} (deactivate with cascade)`,
      });
    }
    // Dependents first: latest activation first is a valid order (a feature is activated after its prerequisites).
    const order = [...dependents, feature.id].sort(
      (a, b) => this.active.get(b)!.seq - this.active.get(a)!.seq,
    );
    for (const id of order) this.active.delete(id);
    return { ok: true, op: 'deactivate', deactivated: order };
  }

  /** Active features that need `id`, directly or transitively. */
  private activeDependents(id: string): string[] {
    const seen = new Set<string>();
    const stack = [id];
    while (stack.length > 0) {
      const u = stack.pop()!;
      for (const d of this.catalog.dependents(u)) {
        if (!seen.has(d) && this.active.has(d)) {
          seen.add(d);
          stack.push(d);
        }
      }
    }
    return [...seen];
  }

  private setParameter(index: number, now: number, cmd: SetParameterCommand): CommandResult {
    const feature = this.catalog.get(cmd.feature);
    if (!feature) return this.unknownFeature(cmd.feature);
    if (!this.active.has(feature.id)) {
      return refuse({
        ok: false,
        code: 'NOT_ACTIVE',
        feature: feature.id,
        message: `${feature.id} is not active: activate it (with parameters) first`,
      });
    }
    const bad = this.checkValue(feature.id, cmd.parameter, cmd.value, now);
    if (bad) return bad;
    const before = this.values.get(key(feature.id, cmd.parameter));
    if (before && before.value === cmd.value && !before.out_of_zone) {
      return {
        ok: true,
        op: 'set_parameter',
        change: { feature: feature.id, parameter: cmd.parameter, value: cmd.value, previous: before.value },
        changed: false,
      };
    }
    const change = this.write(index, now, feature.id, cmd.parameter, cmd.value);
    return { ok: true, op: 'set_parameter', change, changed: true };
  }

  /**
   * The checks of a parameter write, in order: the parameter exists and belongs to the feature (a zone linked
   * to it, or a global zone); the value lies within the absolute bounds and the safe zone; the change from the
   * current value is at most change_limit_percent of |current| (of the safe zone's width when current is 0);
   * the cooldown since the last change has passed. A first write (no current value) skips the last two; so
   * does a write that brings a value reported outside its zone back inside; an unchanged value skips nothing
   * but is accepted without a new cooldown.
   */
  private checkValue(feature: string, parameter: string, value: number, now: number): Refusal | undefined {
    const zone = this.zones.get(parameter);
    if (!zone) {
      return {
        ok: false,
        code: 'UNKNOWN_PARAMETER',
        parameter,
        message: `no safe zone for parameter ${parameter}`,
      };
    }
    if (!this.catalog.appliesTo(parameter, feature)) {
      return {
        ok: false,
        code: 'PARAMETER_NOT_APPLICABLE',
        feature,
        parameter,
        message: `${parameter} is not a parameter of ${feature}`,
      };
    }
    if (value < zone.absolute_min || value > zone.absolute_max) {
      return this.outOfZoneRefusal(
        feature,
        parameter,
        value,
        'absolute',
        zone.absolute_min,
        zone.absolute_max,
      );
    }
    if (value < zone.safe_min || value > zone.safe_max) {
      return this.outOfZoneRefusal(feature, parameter, value, 'safe', zone.safe_min, zone.safe_max);
    }
    const current = this.values.get(key(feature, parameter));
    if (!current || current.out_of_zone || current.value === value) return undefined;
    const share = zone.change_limit_percent / 100;
    const width = zone.safe_max - zone.safe_min;
    let maxChange = share * (current.value !== 0 ? Math.abs(current.value) : width);
    // A zone wider than Number.MAX_VALUE: share × Infinity would allow any change (NaN for a 0 % limit).
    if (current.value === 0 && !Number.isFinite(width))
      maxChange = share * zone.safe_max - share * zone.safe_min;
    // Reported at most Number.MAX_VALUE: an Infinity would not survive JSON (the answers kept for retries).
    maxChange = Math.min(maxChange, Number.MAX_VALUE);
    if (this.changeTooLarge(share, current.value, value, zone)) {
      return {
        ok: false,
        code: 'CHANGE_TOO_LARGE',
        feature,
        parameter,
        from: current.value,
        to: value,
        max_change: maxChange,
        limit_percent: zone.change_limit_percent,
        message:
          `${parameter} of ${feature}: ${current.value} → ${value} changes more than ` +
          `${zone.change_limit_percent} % (at most ${maxChange})`,
      };
    }
    // At most Number.MAX_VALUE: an Infinity would not survive JSON (the answers a replica keeps for retries).
    const until = Math.min(current.changed_at_ms + zone.cooldown_seconds * 1000, Number.MAX_VALUE);
    if (now < until) {
      return {
        ok: false,
        code: 'COOLDOWN',
        feature,
        parameter,
        until_ms: until,
        message: `${parameter} of ${feature} changed at ${current.changed_at_ms} ms; cooldown until ${until} ms`,
      };
    }
    return undefined;
  }

  private outOfZoneRefusal(
    feature: string,
    parameter: string,
    value: number,
    bound: 'absolute' | 'safe',
    min: number,
    max: number,
  ): Refusal {
    return {
      ok: false,
      code: 'OUT_OF_ZONE',
      feature,
      parameter,
      value,
      bound,
      min,
      max,
      message: `${parameter} = ${value} is outside the ${bound} range [${min}, ${max}]`,
    };
  }

  private write(
    index: number,
    now: number,
    feature: string,
    parameter: string,
    value: number,
  ): ParameterChange {
    const k = key(feature, parameter);
    const before = this.values.get(k);
    this.values.set(k, { value, changed_at_ms: now, index, out_of_zone: false });
    return { feature, parameter, value, previous: before ? before.value : null };
  }

  private updateSafeZone(cmd: UpdateSafeZoneCommand): CommandResult {
    if (!this.zones.has(cmd.parameter)) {
      return {
        ok: false,
        code: 'UNKNOWN_PARAMETER',
        parameter: cmd.parameter,
        message: `no safe zone for parameter ${cmd.parameter}`,
      };
    }
    const problem = zoneProblem(cmd.zone);
    if (problem) {
      return {
        ok: false,
        code: 'INVALID_ZONE',
        parameter: cmd.parameter,
        reason: problem,
        message: `safe zone for ${cmd.parameter} refused: ${problem}`,
      };
    }
    this.zones.set(cmd.parameter, { ...cmd.zone });
    const outside: Array<{ feature: string; value: number }> = [];
    for (const [k, v] of this.values) {
      const [feature, parameter] = k.split('\u0000');
      if (parameter !== cmd.parameter) continue;
      v.out_of_zone = v.value < cmd.zone.safe_min || v.value > cmd.zone.safe_max;
      if (v.out_of_zone) outside.push({ feature, value: v.value });
    }
    outside.sort((a, b) => cmp(a.feature, b.feature));
    return { ok: true, op: 'update_safe_zone', parameter: cmd.parameter, outside };
  }

  private registerAgent(index: number, now: number, cmd: RegisterAgentCommand): CommandResult {
    const feature = this.catalog.get(cmd.feature);
    if (!feature) return this.unknownFeature(cmd.feature);
    const replaced = this.agents.has(cmd.agent);
    // Bounded, or any client of POST /commands grows every replica's state and snapshot without end.
    if (!replaced && this.agents.size >= MAX_REGISTERED_AGENTS)
      return {
        ok: false,
        code: 'REGISTRY_FULL',
        limit: MAX_REGISTERED_AGENTS,
        message: `the agent registry holds ${MAX_REGISTERED_AGENTS} agents: deregister one first`,
      };
    this.agents.set(cmd.agent, { feature: feature.id, at_ms: now, index });
    return {
      ok: true,
      op: 'register_agent',
      agent: cmd.agent,
      feature: feature.id,
      category: feature.category,
      replaced,
    };
  }

  private deregisterAgent(cmd: DeregisterAgentCommand): CommandResult {
    const a = this.agents.get(cmd.agent);
    if (!a) return { ok: false, code: 'UNKNOWN_AGENT', agent: cmd.agent, message: `no agent ${cmd.agent}` };
    this.agents.delete(cmd.agent);
    return { ok: true, op: 'deregister_agent', agent: cmd.agent, feature: a.feature };
  }

  private unknownFeature(feature: string): Refusal {
    return { ok: false, code: 'UNKNOWN_FEATURE', feature, message: `no feature ${feature} in the catalogue` };
  }

  // ---------------------------------------------------------------- reads

  get applied(): number {
    return this.appliedIndex;
  }

  /** The state machine's clock: the latest `at_ms` of an accepted command. */
  get clock(): number {
    return this.clockMs;
  }

  isActive(feature: string): boolean {
    return this.active.has(feature);
  }

  /** The Raft index at which `feature` was activated, or undefined when inactive. */
  activeSince(feature: string): number | undefined {
    return this.active.get(feature)?.index;
  }

  activeFeatures(): string[] {
    return [...this.active.keys()].sort();
  }

  value(feature: string, parameter: string): number | undefined {
    return this.values.get(key(feature, parameter))?.value;
  }

  /** Every parameter value set for `feature`, sorted by parameter. */
  valuesOf(feature: string): Array<{ parameter: string; value: number; out_of_zone: boolean }> {
    const out: Array<{ parameter: string; value: number; out_of_zone: boolean }> = [];
    for (const [k, v] of this.values) {
      const [f, parameter] = k.split('\u0000');
      if (f === feature) out.push({ parameter, value: v.value, out_of_zone: v.out_of_zone });
    }
    return out.sort((a, b) => cmp(a.parameter, b.parameter));
  }

  /** Values left outside their zone by a zone update (reported when it happened), awaiting correction. */
  outOfZone(): Array<{ feature: string; parameter: string; value: number }> {
    const out: Array<{ feature: string; parameter: string; value: number }> = [];
    for (const [k, v] of this.values) {
      if (!v.out_of_zone) continue;
      const [feature, parameter] = k.split('\u0000');
      out.push({ feature, parameter, value: v.value });
    }
    return out.sort((a, b) => cmp(a.feature, b.feature) || cmp(a.parameter, b.parameter));
  }

  zone(parameter: string): Readonly<ZoneBounds> | undefined {
    return this.zones.get(parameter);
  }

  agent(id: string): Readonly<AgentRecord> | undefined {
    return this.agents.get(id);
  }

  /** Registered agents of a feature, sorted. */
  agentsFor(feature: string): string[] {
    return [...this.agents]
      .filter(([, a]) => a.feature === feature)
      .map(([id]) => id)
      .sort();
  }

  /** Registered agents of a category (ADR-002's routing index), sorted. */
  agentsIn(category: string): string[] {
    return [...this.agents]
      .filter(([, a]) => this.catalog.get(a.feature)?.category === category)
      .map(([id]) => id)
      .sort();
  }

  get agentCount(): number {
    return this.agents.size;
  }

  /**
   * The dependency check the coordinators answer as a linearizable read (the driver runs it after ReadIndex):
   * prerequisites not active (in activation order), active conflicts, the activation order, and whether an
   * activation would pass now (with or without `with_prerequisites`). Changes nothing.
   */
  dependencyCheck(featureId: string): DependencyCheck | Refusal {
    const feature = this.catalog.get(featureId);
    if (!feature) return this.unknownFeature(featureId);
    const missing = feature.activation_order.slice(0, -1).filter((p) => !this.active.has(p));
    const activeConflicts = feature.conflicts.filter((c) => this.active.has(c));
    const active = this.active.has(feature.id);
    const chainConflicts = this.conflictsOf([...missing, feature.id]);
    // A value left outside its zone refuses a plain activation (`activate`): say so here too.
    const stale = new Set(this.outOfZone().map((v) => v.feature));
    const staleOwn = stale.has(feature.id);
    const staleChain = staleOwn || missing.some((p) => stale.has(p));
    return {
      ok: true,
      feature: feature.id,
      active,
      missing,
      active_conflicts: [...activeConflicts],
      activation_order: [...feature.activation_order],
      can_activate: !active && missing.length === 0 && activeConflicts.length === 0 && !staleOwn,
      can_activate_with_prerequisites: !active && chainConflicts.length === 0 && !staleChain,
      applied_index: this.appliedIndex,
    };
  }

  /**
   * Safety invariants of the control plane, as a list of violations (empty when all hold): every active
   * feature's prerequisites are active; no two active features conflict; every value lies within its zone
   * (unless a zone update reported it outside), belongs to its feature, and every zone is valid.
   */
  invariants(): InvariantViolation[] {
    const out: InvariantViolation[] = [];
    for (const id of this.activeFeatures()) {
      const f = this.catalog.get(id);
      if (!f) {
        out.push({ kind: 'UNKNOWN_FEATURE', message: `active feature ${id} is not in the catalogue` });
        continue;
      }
      for (const p of f.requires) {
        if (!this.active.has(p))
          out.push({ kind: 'MISSING_PREREQUISITE', message: `${id} is active without ${p}` });
      }
      for (const c of f.conflicts) {
        if (c > id && this.active.has(c))
          out.push({ kind: 'CONFLICT', message: `${id} and ${c} are both active` });
      }
    }
    for (const [p, z] of [...this.zones].sort((a, b) => cmp(a[0], b[0]))) {
      const bad = zoneProblem(z);
      if (bad) out.push({ kind: 'INVALID_ZONE', message: `zone of ${p}: ${bad}` });
    }
    for (const [k, v] of [...this.values].sort((a, b) => cmp(a[0], b[0]))) {
      const [feature, parameter] = k.split('\u0000');
      const z = this.zones.get(parameter);
      if (!z || !this.catalog.appliesTo(parameter, feature)) {
        out.push({ kind: 'VALUE_NOT_APPLICABLE', message: `${feature} has a value for ${parameter}` });
        continue;
      }
      const inside = v.value >= z.safe_min && v.value <= z.safe_max;
      if (!inside && !v.out_of_zone) {
        out.push({
          kind: 'VALUE_OUT_OF_ZONE',
          message: `${parameter} of ${feature} = ${v.value} outside [${z.safe_min}, ${z.safe_max}]`,
        });
      }
    }
    return out;
  }
}
