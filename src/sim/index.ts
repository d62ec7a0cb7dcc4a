export { Accounting, type Counter, type DropReason } from './accounting.js';
export { benchSim, type SimBenchResult } from './bench.js';
export { type DiskStats, SimDisk } from './disk.js';
export { EventQueue, type SimEvent } from './event-queue.js';
export {
  FAULT_KINDS,
  type Fault,
  type FaultHooks,
  type FaultKind,
  installSchedule,
  parseFaultKinds,
  randomSchedule,
  type ScheduleOptions,
} from './faults.js';
export {
  cutPairs,
  DEFAULT_LINK,
  LATENCY_PROFILES,
  type LatencyProfile,
  type LinkModel,
  type PartitionSpec,
  sampleLatency,
} from './network.js';
// The HostEnv the simulator lends a RaftHost (virtual clock, seeded faults), as realHostEnv on sockets.
export { simHostEnv } from './raft/sim-env.js';
export { type NodeStatus, type SimNodeHandler, type SimOptions, Simulator } from './simulator.js';
