/** What the evaluation takes from the library (one place, so the import direction stays visible). */
import { isElexError } from '../../core/index.js';

export {
  checkDelta,
  DEFAULT_LEARNING,
  DEFAULT_RULE,
  type Delta,
  decodeDelta,
  emptyDelta,
  encodeDeltaUnchecked,
  epsilonAt,
  type Identity,
  identityFromRng,
  type LearningConfig,
  MapKeyring,
  type MergeOutput,
  type MergeParams,
  type MergeRule,
  newOutput,
  type QBounds,
  qBounds,
  ReporterTrust,
  type ReportSet,
  RULE_NAMES,
  type RuleName,
  ruleByName,
  shrinkTowardConsensus,
  TD_WINDOW,
  type TrustOptions,
  tdReachable,
  tdStep,
  tdTargetRange,
} from '../../learning/index.js';

export function isElexErrorCode(e: unknown): string | null {
  return isElexError(e) ? e.code : null;
}
