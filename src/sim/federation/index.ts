export { ATTACK_NAMES, type AttackName, alieZ, normalQuantile } from './attacks.js';
export {
  BEHAVIOUR,
  type CampaignOptions,
  campaignRunConfig,
  campaignSeed,
  type ResultRow,
  runCampaign,
  solve,
} from './campaign.js';
export {
  buildMdp,
  greedyPolicy,
  type Mdp,
  policyValue,
  startValue,
  uniformPolicy,
  valueIteration,
} from './mdp.js';
export { elexQueryMdp, frozenLake, MDP_NAMES, type MdpName, mdpByName, randomMdp } from './mdps.js';
export {
  BEHAVIOURS,
  type Behaviour,
  preferredAction,
  type RunConfig,
  type RunResult,
  rhoOf,
  runFederation,
  type Solution,
} from './run.js';
export {
  type CampaignReportView,
  type CellVerdict,
  type ColumnVerdict,
  campaignReportSchema,
  criteriaCount,
  failures,
  judgeColumn,
  MEAN_FACTOR,
  parseCampaignReport,
  renderTable,
  renderVerdict,
  WORST_FACTOR,
} from './verdict.js';
