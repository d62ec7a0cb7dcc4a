import { ElexError } from '../core/index.js';
import type { ConfChange, ConfState } from '../raft/index.js';
import {
  type Catalog,
  type Command,
  type CommandResult,
  CoordinatorReplica,
  type CoordinatorStateMachine,
  decodeCommand,
  encodeCommand,
} from '../swarm/index.js';
import type { ClusterKeyring } from './cluster-key.js';
import { RaftProcess, type RaftProcessOptions, type RaftStatus } from './raft-process.js';
import type { Address } from './tcp-transport.js';

export interface CoordinatorNodeOptions extends RaftProcessOptions {
  catalog: Catalog;
}

/** A command as a client sends it: the coordinator stamps `at_ms` with its own clock. */
export type ClientCommand = Command extends infer C ? (C extends Command ? Omit<C, 'at_ms'> : never) : never;

export interface CoordinatorStatus extends RaftStatus {
  active_features: number;
  agents: number;
}

/**
 * A category coordinator in a real process: `CoordinatorReplica` (the replica the swarm scenario runs on the
 * simulator: the control-plane state machine with client sessions) on a `FileDisk` and a `TcpTransport`,
 * ticked by a wall-clock timer. Commands go through the log; reads are linearizable (ReadIndex) and say the
 * index they were served at.
 */
export class CoordinatorNode {
  private readonly ticker: NodeJS.Timeout;
  /** Barrier waits in flight: `close` fails each at once (`E_STOPPED`) and clears its timer. */
  private readonly waits = new Set<(e: ElexError) => void>();
  private closed = false;

  private constructor(
    private readonly proc: RaftProcess<CoordinatorReplica>,
    tickMs: number,
  ) {
    this.ticker = setInterval(() => proc.host.tick(), tickMs);
  }

  static async start(o: CoordinatorNodeOptions): Promise<CoordinatorNode> {
    const proc = await RaftProcess.start(
      o,
      (env, opts, observer) => new CoordinatorReplica(env, o.id, o.catalog, opts, observer, { onApply() {} }),
    );
    // Its own request ids carry a life number that must be on disk first (replica.ts): wait for that here,
    // so the first command after a start is not refused as if there were no leader.
    const until = Date.now() + 5_000;
    while (!proc.host.ownIdsReady()) {
      if (Date.now() > until) {
        await proc.close();
        throw new ElexError('E_STORAGE', 'the replica life number did not reach the disk within 5 s');
      }
      await new Promise((r) => setTimeout(r, 2));
    }
    return new CoordinatorNode(proc, o.tickMs ?? 10);
  }

  get id(): number {
    return this.proc.host.id;
  }

  get raftAddress(): Address {
    return this.proc.raftAddress;
  }

  /** The cluster key this node runs with (undefined: not keyed). */
  get keyring(): ClusterKeyring | undefined {
    return this.proc.keyring;
  }

  /** Validates `cmd` (E_BAD_COMMAND with the reason), stamps it and proposes it; resolves with its result. */
  async command(cmd: ClientCommand): Promise<CommandResult> {
    let encoded: Uint8Array;
    try {
      encoded = encodeCommand({ ...cmd, at_ms: Date.now() } as Command);
    } catch (e) {
      // A command from the network may nest deeper than JSON.stringify recurses (RangeError).
      throw new ElexError('E_BAD_COMMAND', `invalid command: ${e instanceof Error ? e.message : String(e)}`);
    }
    const decoded = decodeCommand(encoded);
    if (!decoded.ok) throw new ElexError('E_BAD_COMMAND', `invalid command ${decoded.reason}`);
    const data = encodeCommand(decoded.command);
    const r = await this.proc.propose<CommandResult | null>((settle) =>
      this.proc.host.proposeOrForget(data, settle),
    );
    if (r === null) throw new ElexError('E_SETTLED', 'the command was settled without an answer');
    return r;
  }

  /**
   * `f` over the control plane at a linearizable point: `index` is the read index Raft confirmed, `applied`
   * the index of the state `f` saw (at or above it: the replica may have applied more by then).
   */
  read<T>(f: (m: CoordinatorStateMachine) => T): Promise<{ index: number; applied: number; value: T }> {
    const host = this.proc.host;
    return this.proc.read((settle) =>
      host.readIndexOrForget((index) =>
        settle({ index, applied: host.appliedIndex, value: f(host.machine) }),
      ),
    );
  }

  /** A single-server membership change, on the leader (`RaftProcess.changeMembership`). */
  changeMembership(cc: ConfChange): Promise<ConfState> {
    return this.proc.changeMembership(cc);
  }

  /** Hands leadership to `to` (`RaftProcess.transferLeadership`). */
  transferLeadership(to: number): Promise<void> {
    return this.proc.transferLeadership(to);
  }

  /** Resolves with this replica's applied index once it is at least `index` (E_TIMEOUT after the request timeout). */
  whenApplied(index: number, timeoutMs = 3000): Promise<number> {
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new ElexError('E_STOPPED', 'the node is stopped'));
      const fail = (e: ElexError) => {
        clearTimeout(timer);
        forget();
        this.waits.delete(fail);
        reject(e);
      };
      const timer = setTimeout(
        () => fail(new ElexError('E_TIMEOUT', `index ${index} not applied within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const forget = this.proc.host.whenApplied(index, (applied) => {
        clearTimeout(timer);
        this.waits.delete(fail);
        resolve(applied);
      });
      this.waits.add(fail);
    });
  }

  /** `f` over this replica's state as it is now (not linearizable: after `whenApplied` it is at least that index). */
  readLocal<T>(f: (m: CoordinatorStateMachine) => T): T {
    return f(this.proc.host.machine);
  }

  status(): CoordinatorStatus {
    const m = this.proc.host.machine;
    return { ...this.proc.status(), active_features: m.activeFeatures().length, agents: m.agentCount };
  }

  close(): Promise<void> {
    this.closed = true;
    clearInterval(this.ticker);
    // As the process fails its pending proposals and reads: a part's barrier wait kept its timer (and the
    // process) alive up to 3 s after the close, then said E_TIMEOUT.
    for (const fail of [...this.waits]) fail(new ElexError('E_STOPPED', 'the node is stopped'));
    return this.proc.close();
  }
}
