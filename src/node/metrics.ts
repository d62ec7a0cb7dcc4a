import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { MirrorStats } from './agent-mirror.js';
import type { KvNodeStatus } from './kv-node.js';
import type { RaftStatus } from './raft-process.js';
import type { FailoverStats, StandbyStats } from './standby.js';
import type { ReturnStats } from './standby-return.js';

/** Counters of `register` whose values are read from `source()` at scrape time (kept elsewhere, not here). */
function countersOf<T>(register: Registry, source: () => T) {
  return (name: string, help: string, read: (s: T) => number) =>
    new Counter({
      name,
      help,
      registers: [register],
      collect() {
        this.reset();
        this.inc(read(source()));
      },
    });
}

/** Like `countersOf`, for a counter with one label: `read` gives the count of each label value. */
function labelledCountersOf<T>(register: Registry, source: () => T) {
  return (name: string, help: string, label: string, read: (s: T) => Record<string, number>) =>
    new Counter({
      name,
      help,
      labelNames: [label],
      registers: [register],
      collect() {
        this.reset();
        for (const [value, n] of Object.entries(read(source()))) this.inc({ [label]: value }, n);
      },
    });
}

/**
 * Prometheus metrics of one Raft process, read from its status at scrape time (nothing is counted twice:
 * the transport and Raft keep the counts, this only exposes them), plus Node's process metrics.
 */
export function raftMetrics(status: () => RaftStatus, kind: string): Registry {
  const register = new Registry();
  register.setDefaultLabels({ kind });
  collectDefaultMetrics({ register });
  const gauge = (name: string, help: string, read: (s: RaftStatus) => number) =>
    new Gauge({
      name,
      help,
      registers: [register],
      collect() {
        this.set(read(status()));
      },
    });
  const counter = countersOf(register, status);
  gauge('elex_raft_term', 'Current Raft term', (s) => s.term);
  gauge('elex_raft_commit_index', 'Highest log index known committed', (s) => s.commit);
  gauge('elex_raft_applied_index', 'Highest log index applied to the state machine', (s) => s.applied);
  gauge('elex_raft_is_leader', '1 while this node leads', (s) => (s.role === 'leader' ? 1 : 0));
  gauge('elex_raft_leader_id', 'The leader this node believes in (-1: none known)', (s) => s.leader);
  counter('elex_transport_messages_sent_total', 'Raft messages written to peers', (s) => s.transport.sent);
  counter(
    'elex_transport_messages_received_total',
    'Raft messages accepted from peers',
    (s) => s.transport.received,
  );
  counter(
    'elex_transport_messages_dropped_total',
    'Raft messages dropped on the way out',
    (s) => s.transport.dropped,
  );
  counter('elex_transport_bytes_sent_total', 'Bytes written to peers', (s) => s.transport.bytesOut);
  counter('elex_transport_bytes_received_total', 'Bytes read from peers', (s) => s.transport.bytesIn);
  counter('elex_transport_connects_total', 'Outbound connections established', (s) => s.transport.connects);
  counter(
    'elex_transport_stalls_total',
    'Outbound connections replaced because their frames went unacknowledged (or never connected) for stallMs',
    (s) => s.transport.stalls,
  );
  const labelled = labelledCountersOf(register, status);
  labelled(
    'elex_transport_server_errors_total',
    'Errors the listening server survived after it was up (accept failures), by code',
    'code',
    (s) => s.transport.serverErrors,
  );
  labelled(
    'elex_transport_refused_total',
    'Inbound messages and connections refused, by reason (E_DECODE, E_FRAME, E_AUTH, E_NOT_ADDRESSED, ' +
      'E_UNKNOWN_PEER, E_TOO_MANY_CONNECTIONS, E_STRANGER_EVICTED, E_HANDSHAKE_TIMEOUT)',
    'reason',
    (s) => s.transport.refused,
  );
  gauge('elex_disk_recovered_records', 'Records replayed from the disk at start', (s) => s.recovery.records);
  gauge(
    'elex_disk_truncated_bytes',
    'Torn bytes cut from the disk at start',
    (s) => s.recovery.truncatedBytes,
  );
  return register;
}

/** The KV machine's own figures, added to a KV node's registry: keys, and the bounded session table. */
export function addKvMetrics(register: Registry, status: () => KvNodeStatus): void {
  const registers = [register];
  new Gauge({
    name: 'elex_kv_keys',
    help: 'Keys in the KV machine',
    registers,
    collect() {
      this.set(status().keys);
    },
  });
  new Gauge({
    name: 'elex_kv_sessions',
    help: 'Client sessions the KV machine holds (at most 10,000)',
    registers,
    collect() {
      this.set(status().sessions);
    },
  });
  new Counter({
    name: 'elex_kv_sessions_expired_total',
    help: 'Client sessions expired by the bound, on this replica since it started',
    registers,
    collect() {
      this.reset();
      this.inc(status().sessionsExpired);
    },
  });
}

/** What a coordinator's query service counts of failovers and mirrors (`GET /agents` has them all). */
export interface QueryFigures {
  failover: FailoverStats;
  standby: StandbyStats;
  mirror: MirrorStats;
  returns: ReturnStats;
}

/** The failover and mirror figures, added to a coordinator's registry: read at scrape time, like the rest. */
export function addQueryMetrics(register: Registry, figures: () => QueryFigures): void {
  const counter = countersOf(register, figures);
  const labelled = labelledCountersOf(register, figures);
  counter(
    'elex_query_failover_parts_total',
    "Query parts this coordinator asked of a standby because the category's primary did not answer",
    (f) => f.failover.parts,
  );
  labelled(
    'elex_query_failover_skipped_total',
    'Parts and ratings sent to the standby without asking their primary: remembered down (it did not answer lately) or suspected by the gossip failure detector',
    'why',
    ({ failover: f }) => ({ remembered: f.remembered, suspected: f.suspected }),
  );
  counter(
    'elex_query_failover_feedback_total',
    "Ratings a standby's agent took because the primary did not",
    (f) => f.failover.feedback,
  );
  counter(
    'elex_query_standby_answers_total',
    "Answers this coordinator's standby agents gave for a primary that did not answer",
    (f) => f.standby.answers,
  );
  labelled(
    'elex_agents_mirror_posts_total',
    'Mirrors of the hosted agents sent to their standby, by outcome (sent: taken; failed: resent later)',
    'outcome',
    ({ mirror: m }) => ({ sent: m.sent, failed: m.failed }),
  );
  labelled(
    'elex_agents_mirror_entries_total',
    "Q-table entries mirrored: sent to this coordinator's standby (taken), applied to its standby agents",
    'direction',
    ({ mirror: m }) => ({ sent: m.entries, applied: m.applied }),
  );
  labelled(
    'elex_agents_returned_total',
    "Rated experiences of standby agents sent back to their primary: acknowledged by it (sent), learned by this coordinator's hosted agents (learned), dropped from a full queue (dropped)",
    'outcome',
    ({ returns: r }) => ({ sent: r.returned, learned: r.learned, dropped: r.dropped }),
  );
  counter(
    'elex_agents_mirror_refused_total',
    'Agents of mirrors received that this coordinator is not the standby of (NOT_STANDBY)',
    (f) => f.mirror.refused,
  );
}
