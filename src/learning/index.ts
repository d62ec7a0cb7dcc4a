/** Federated Q-learning: the engine, the typed-array QTable, merge rules, the signed delta codec, federation. */
export {
  type AggregateStamp,
  AggregatorElection,
  checkVoteState,
  type ElectionHooks,
  type ElectionOptions,
  type ElectionTransport,
} from './aggregator-election.js';
export {
  electionQuorum,
  encodeCertificate,
  MAX_CERTIFICATE_VOTES,
  verifyCertificate,
} from './certificate.js';
export { CONTROL_TYPES, type Control, type ControlType, decodeControl, encodeControl } from './control.js';
export {
  type DecodeOptions,
  type Delta,
  type DeltaKind,
  decodeDelta,
  emptyDelta,
  encodeDelta,
  encodeDeltaUnchecked,
  MAX_DELTA_BYTES,
  MAX_DELTA_ENTRIES,
  selectEntries,
} from './delta-codec.js';
export {
  DEFAULT_LEARNING,
  epsilonAt,
  epsilonGreedy,
  fullMask,
  greedyAction,
  type LearningConfig,
  maxAvailable,
  QLearner,
  randomAvailable,
  tdStep,
} from './engine.js';
export { ENVELOPE, type EnvelopeKind, envelope } from './envelope.js';
export {
  type ConsensusState,
  createFederatedQTable,
  FederatedQTable,
  type FederationConfig,
  federatedSync,
  type SyncResult,
  type VoteState,
} from './federated.js';
export {
  checkFederatedActions,
  checkKnownKeys,
  deltaLimitsOf,
  settingsOf,
  syncIntervalOf,
} from './federation-config.js';
export {
  type Identity,
  identityFromRng,
  identityFromSeed,
  type Keyring,
  MapKeyring,
  signBytes,
  verifyBytes,
} from './identity.js';
export * from './merge/index.js';
export { type FederationNetwork, InMemoryNetwork } from './network.js';
export { deltaSince } from './outgoing-delta.js';
export { QTable, VERSION_REBASE } from './q-table.js';
export { ReachabilityWindow, TD_WINDOW } from './reachability-window.js';
export { type RelayWeights, relayedCounts } from './relay.js';
export { type Outcome, type QBounds, qBounds, REWARD_MAX, REWARD_MIN, reward } from './reward.js';
export * from './state.js';
export {
  MergeWorkspace,
  mergeDeltasIntoTable,
  mergeVisitWeightedInto,
  type TableMergeOptions,
  type TableMergeResult,
  type Weighting,
} from './table-merge.js';
export { DEFAULT_TRUST, ReporterTrust, type TrustOptions } from './trust.js';
export {
  checkDelta,
  tdReachable,
  tdTargetRange,
  type ValidationLimits,
  type Verdict,
  validateDelta,
} from './validate.js';
