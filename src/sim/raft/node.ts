import {
  type KvHostOptions,
  KvRaftHost,
  type Raft,
  type RaftBoot,
  type RaftConfig,
} from '../../raft/index.js';
import type { Simulator } from '../simulator.js';
import type { InvariantChecker } from './checkers.js';
import { simHostEnv } from './sim-env.js';

export interface DriverOptions extends KvHostOptions {
  /** Planted bugs (simulator only). */
  skipPersist?: boolean;
  staleRead?: boolean;
  makeRaft?: (cfg: RaftConfig, boot: RaftBoot) => Raft;
}

/** A KV node of the Raft campaigns on the simulator: `KvRaftHost` with the planted bugs of `DriverOptions`. */
export class RaftSimNode extends KvRaftHost<DriverOptions> {
  constructor(sim: Simulator, id: number, opts: DriverOptions, checker: InvariantChecker) {
    super(simHostEnv(sim, id), id, opts, checker);
  }

  protected override newRaft(cfg: RaftConfig, boot: RaftBoot): Raft {
    return this.opts.makeRaft ? this.opts.makeRaft(cfg, boot) : super.newRaft(cfg, boot);
  }

  protected override get fsync(): boolean {
    return !this.opts.skipPersist;
  }

  /** Under the stale-read mutation a read is served straight from local state, skipping ReadIndex. */
  override clientRead(key: string, cb: (value: string | null) => void, fail: () => void): () => void {
    if (this.rn !== null && this.opts.staleRead) {
      cb(this.kv.get(key));
      return () => {};
    }
    return super.clientRead(key, cb, fail);
  }
}
