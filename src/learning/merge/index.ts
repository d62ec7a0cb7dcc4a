import { ElexError } from '../../core/index.js';
import { selfCentredClipping } from './clipping.js';
import { krum, multiKrum } from './krum.js';
import { weightedMedian } from './median.js';
import { trimmedMean } from './trimmed-mean.js';
import type { MergeRule } from './types.js';
import { visitWeighted } from './visit-weighted.js';

export { selfCentredClipping } from './clipping.js';
export { krum, multiKrum } from './krum.js';
export { weightedMedian } from './median.js';
export { shrinkTowardConsensus } from './shrink.js';
export { trimmedMean } from './trimmed-mean.js';
export {
  countConflicts,
  type MergeOutput,
  type MergeParams,
  type MergeRule,
  newOutput,
  type ReportSet,
} from './types.js';
export { visitWeighted } from './visit-weighted.js';

export const RULE_NAMES = [
  'visit-weighted',
  'trimmed-mean',
  'median',
  'krum',
  'multi-krum',
  'clipping',
] as const;
export type RuleName = (typeof RULE_NAMES)[number];

/** The rule used when none is named: robust to a third of Byzantine weight, keeps visit weights. */
export const DEFAULT_RULE: RuleName = 'trimmed-mean';

const RULES: Record<RuleName, MergeRule> = {
  'visit-weighted': visitWeighted,
  'trimmed-mean': trimmedMean,
  median: weightedMedian,
  krum,
  'multi-krum': multiKrum,
  clipping: selfCentredClipping,
};

export function ruleByName(name: string): MergeRule {
  // Own keys only: `constructor`, `toString`, … are not rules.
  const r = Object.hasOwn(RULES, name) ? RULES[name as RuleName] : undefined;
  if (!r) throw new ElexError('E_RULE', `unknown merge rule '${name}' (known: ${RULE_NAMES.join(', ')})`);
  return r;
}

/** Whether a rule trusts claimed lifetime visits (only the plain ADR-115 merge does). */
export function trustsClaimedVisits(name: RuleName): boolean {
  return name === 'visit-weighted';
}
