/**
 * What Raft replicates into. The key-value machine and the swarm's coordinator machine both implement it.
 * Every method must be a deterministic function of the entries applied so far: replicas that apply the same
 * log must reach byte-identical state (the checkers compare `snapshot()` outputs).
 */
export interface StateMachine {
  /** Applies one committed entry's command; the result goes back to the proposer. Never throws for bad input:
   *  a refused command is a result (typed reason), so every replica refuses it the same way. */
  apply(index: number, command: Uint8Array): unknown;
  /** The full state as of the last applied entry. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot taken at `index`. */
  restore(snapshot: Uint8Array, index: number): void;
}
