/**
 * What `apply` answers. A refusal is a value (never a throw), typed by `code`, carries a human `message`, and
 * leaves the state exactly as it was.
 */

export type Refusal =
  | { ok: false; code: 'MALFORMED'; message: string }
  | { ok: false; code: 'STALE_INDEX'; index: number; applied_index: number; message: string }
  | { ok: false; code: 'UNKNOWN_FEATURE'; feature: string; message: string }
  | { ok: false; code: 'ALREADY_ACTIVE'; feature: string; message: string }
  | { ok: false; code: 'NOT_ACTIVE'; feature: string; message: string }
  | { ok: false; code: 'MISSING_PREREQUISITE'; feature: string; missing: string[]; message: string }
  | {
      ok: false;
      code: 'CONFLICT';
      feature: string;
      /** The active features (or features of the same chain) it conflicts with. */
      conflicts_with: string[];
      message: string;
    }
  | { ok: false; code: 'REQUIRED_BY'; feature: string; required_by: string[]; message: string }
  | { ok: false; code: 'UNKNOWN_PARAMETER'; parameter: string; message: string }
  | { ok: false; code: 'PARAMETER_NOT_APPLICABLE'; feature: string; parameter: string; message: string }
  | {
      ok: false;
      code: 'OUT_OF_ZONE';
      feature: string;
      parameter: string;
      value: number;
      /** Which interval the value left: the absolute bounds, or the safe zone within them. */
      bound: 'absolute' | 'safe';
      min: number;
      max: number;
      message: string;
    }
  | {
      ok: false;
      code: 'CHANGE_TOO_LARGE';
      feature: string;
      parameter: string;
      from: number;
      to: number;
      /** The largest change allowed from `from`. */
      max_change: number;
      limit_percent: number;
      message: string;
    }
  | { ok: false; code: 'COOLDOWN'; feature: string; parameter: string; until_ms: number; message: string }
  | { ok: false; code: 'INVALID_ZONE'; parameter: string; reason: string; message: string }
  | { ok: false; code: 'UNKNOWN_AGENT'; agent: string; message: string }
  | { ok: false; code: 'REGISTRY_FULL'; limit: number; message: string };

export type RefusalCode = Refusal['code'];

export interface ParameterChange {
  feature: string;
  parameter: string;
  value: number;
  /** The value before, or null when the parameter had never been set for this feature. */
  previous: number | null;
}

export type Accepted =
  | { ok: true; op: 'activate'; activated: string[]; parameters: ParameterChange[] }
  | { ok: true; op: 'deactivate'; deactivated: string[] }
  | { ok: true; op: 'set_parameter'; change: ParameterChange; changed: boolean }
  | {
      ok: true;
      op: 'update_safe_zone';
      parameter: string;
      outside: Array<{ feature: string; value: number }>;
    }
  | { ok: true; op: 'register_agent'; agent: string; feature: string; category: string; replaced: boolean }
  | { ok: true; op: 'deregister_agent'; agent: string; feature: string };

export type CommandResult = Accepted | Refusal;

export interface DependencyCheck {
  ok: true;
  feature: string;
  active: boolean;
  /** Prerequisites not active, in activation order. */
  missing: string[];
  /** Active features it conflicts with. */
  active_conflicts: string[];
  /** Full activation order (prerequisites, then the feature). */
  activation_order: string[];
  /** Activation would be accepted as is. */
  can_activate: boolean;
  /** Activation with `with_prerequisites` would be accepted. */
  can_activate_with_prerequisites: boolean;
  /** The last applied index the answer reflects. */
  applied_index: number;
}

export type InvariantKind =
  | 'MISSING_PREREQUISITE'
  | 'CONFLICT'
  | 'VALUE_OUT_OF_ZONE'
  | 'VALUE_NOT_APPLICABLE'
  | 'INVALID_ZONE'
  | 'UNKNOWN_FEATURE';

export interface InvariantViolation {
  kind: InvariantKind;
  message: string;
}
