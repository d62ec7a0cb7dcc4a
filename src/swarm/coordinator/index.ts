export {
  type ActivateCommand,
  type Command,
  type CommandOp,
  commandSchema,
  type DeactivateCommand,
  type Decoded,
  type DeregisterAgentCommand,
  decodeCommand,
  encodeCommand,
  MAX_AT_MS,
  MAX_COMMAND_BYTES,
  type RegisterAgentCommand,
  type SetParameterCommand,
  type UpdateSafeZoneCommand,
} from './commands.js';
export { CoordinatorStateMachine, MAX_REGISTERED_AGENTS } from './machine.js';
export {
  CoordinatorReplica,
  envelope,
  MAX_RESULTS,
  MAX_SESSIONS,
  RESULT_RETENTION_MS,
  type ReplicaHooks,
  type ReplicaOptions,
  requestIdOf,
} from './replica.js';
export type {
  Accepted,
  CommandResult,
  DependencyCheck,
  InvariantKind,
  InvariantViolation,
  ParameterChange,
  Refusal,
  RefusalCode,
} from './results.js';
