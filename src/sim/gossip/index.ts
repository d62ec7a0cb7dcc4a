export { CHURN_STEP_MS, type ChurnOptions, runChurn } from './churn.js';
export { type ClusterOptions, GossipCluster, memberName, WIRE_OVERHEAD_BYTES } from './cluster.js';
export { type CommonOptions, formCluster, LivenessChecker, THEORY } from './common.js';
export { type CrashOptions, runCrash } from './crash.js';
export { type DisseminationOptions, runDissemination } from './dissemination.js';
export { type PartitionOptions, runPartition } from './partition.js';
export { runSteady, type SteadyOptions } from './steady.js';
