import { ACTIONS, type ActionName, type Complexity, type QueryType } from '../../learning/index.js';

/**
 * The simulated users' taste: which kind of answer each (query type, complexity) deserves. Agents never see
 * this table; they learn it from ratings. Policy quality = how often an agent's greedy action matches it.
 */
const IDEAL: Record<QueryType, [ActionName, ActionName, ActionName]> = {
  parameter: ['DirectAnswer', 'ContextAnswer', 'ContextAnswer'],
  counter: ['DirectAnswer', 'DirectAnswer', 'ContextAnswer'],
  kpi: ['ContextAnswer', 'ContextAnswer', 'ConsultPeer'],
  procedure: ['ContextAnswer', 'ConsultPeer', 'ConsultPeer'],
  troubleshoot: ['ContextAnswer', 'ConsultPeer', 'Escalate'],
  general: ['DirectAnswer', 'RequestClarification', 'RequestClarification'],
};
const CX: Record<Complexity, number> = { simple: 0, moderate: 1, complex: 2 };

export function idealAction(type: QueryType, complexity: Complexity): number {
  return ACTIONS.indexOf(IDEAL[type][CX[complexity]]);
}

/** The rating a user gives an answer of kind `action`: 1 for the ideal kind, 0.2 next to it, −0.6 otherwise. */
export function rate(
  type: QueryType,
  complexity: Complexity,
  action: string,
): { rating: number; resolved: boolean } {
  const ideal = idealAction(type, complexity);
  const a = ACTIONS.indexOf(action as ActionName);
  if (a === ideal) return { rating: 1, resolved: true };
  if (Math.abs(a - ideal) === 1) return { rating: 0.2, resolved: false };
  return { rating: -0.6, resolved: false };
}
