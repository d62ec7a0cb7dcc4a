/** Public face of the Raft core: RawNode, storage, the KV state machine and the wire types. */
export {
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_MESSAGE_ENTRIES,
  type DecodeLimits,
  decodeMessage,
  encodeMessage,
  MAX_CONF_MEMBERS,
  MESSAGE_FORMAT_VERSION,
} from './codec.js';
export { applyToConf, decodeConfChange, encodeConfChange, validateConfChange } from './conf-change.js';
export {
  type HostEnv,
  type NodeObserver,
  type ObservedNode,
  RaftHost,
  type RaftHostOptions,
} from './host.js';
export {
  DEFAULT_MAX_SESSIONS,
  decodeKv,
  encodeKv,
  KV_LIMITS,
  type KvCommand,
  type KvMachineOptions,
  KvOp,
  type KvResult,
  KvStateMachine,
  SESSION_EXPIRED,
  SESSION_PRIVATE,
} from './kv.js';
export { type KvHostOptions, KvRaftHost } from './kv-host.js';
export { RaftLog } from './log.js';
export { Inflights, PROGRESS_NAMES, Progress, ProgressState } from './progress.js';
export { CONTEXT_TRANSFER, Raft, type RaftBoot, type RaftConfig } from './raft.js';
export { RawNode, type Ready, type Status } from './raw-node.js';
export { drainReadies, type ReadyDriver } from './ready-loop.js';
export {
  type Disk,
  DiskStorage,
  type LogStore,
  MemoryDisk,
  type RaftStorage,
  type SnapshotStore,
  type StableStore,
} from './storage.js';
export * from './types.js';
