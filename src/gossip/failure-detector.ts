/**
 * Failure detection: phi-accrual monitoring (Hayashibara et al., Akka's normal model, phi-accrual.ts) on the
 * monitoring ring (ring.ts). A member heartbeats its `monitors` live ring predecessors (they monitor it) and
 * keeps a heartbeat history of each of its live successors; when a successor's phi passes the threshold it
 * raises a suspicion, which Lifeguard's rules (suspicion.ts) turn into a death or which the suspect refutes.
 *
 * Why phi rather than a fixed timeout: the threshold adapts to each link's measured mean and spread (a lossy
 * link is given longer). Why a ring: the load is constant per member, and everyone can compute any member's
 * monitors from its own view, so a suspicion goes straight to the co-monitors that can confirm it. Hubs
 * (`config.hubs`) monitor everyone and are heartbeated by everyone, so a failure of a whole ring
 * neighbourhood is still seen first-hand.
 */
import { type ClaimEntry, MsgType } from './codec.js';
import type { CoreState } from './core-state.js';
import { isTerminal, type Member, Status } from './member.js';
import { setClaim } from './membership.js';
import { HeartbeatHistory } from './phi-accrual.js';
import { addVote } from './suspicion.js';

export function refreshMonitors(s: CoreState): void {
  if (s.monitorsAt === s.ringEpoch) return; // nobody joined, left or changed liveness class since
  s.monitorsAt = s.ringEpoch;
  const hubs = s.config.hubs;
  s.heartbeatTargets = withHubs(
    s,
    s.ring.walk(s.name, s.self.ringPos, s.config.monitors, -1, s.isLive),
    s.name,
  );
  const next = hubs.includes(s.name)
    ? s.live.items.slice()
    : s.ring.walk(s.name, s.self.ringPos, s.config.monitors, 1, s.isLive);
  for (const n of next)
    if (!s.histories.has(n)) {
      const h = new HeartbeatHistory(s.config, s.now);
      // Its clock starts now (a member never heard is suspected like one that stopped), but the first
      // heartbeat ends no interval: it only restarts the clock (Akka's firstHeartbeat).
      h.grace(s.now);
      setHistory(s, n, h);
    }
  for (const n of s.monitored) if (!next.includes(n)) setHistory(s, n, undefined);
  s.monitored = next;
  s.monitoredHistories = next.map((n) => s.histories.get(n)!);
  s.phiFloor = Number.NEGATIVE_INFINITY;
}

function setHistory(s: CoreState, n: string, h: HeartbeatHistory | undefined): void {
  if (h === undefined) s.histories.delete(n);
  else s.histories.set(n, h);
  const m = s.members.get(n);
  if (m !== undefined) m.hist = h;
}

/** A heartbeat (or a refutation) from a monitored member: an arrival may move its bound a little earlier. */
export function arrived(s: CoreState, h: HeartbeatHistory): void {
  h.arrive(s.now, s.config.phiThreshold);
  const b = h.bound();
  if (b < s.phiFloor) s.phiFloor = b;
}

/** Heartbeat `seq` from a monitored member: an arrival unless the network duplicated or reordered it. */
export function heartbeat(s: CoreState, h: HeartbeatHistory, seq: number): void {
  if (h.fresh(seq)) arrived(s, h);
  else s.metrics.inc('duplicate_heartbeats');
}

/** Our monitors are our ring predecessors: they get our heartbeats. */
export function sendHeartbeats(s: CoreState): void {
  const to = s.heartbeatTargets;
  const seq = s.hbSeq++;
  s.sendAll(to, { type: MsgType.heartbeat, ...s.header(), seq });
}

/** Raises the suspicions phi calls for; returns the earliest time another check could find one. */
export function checkPhi(s: CoreState): number {
  const monitored = s.monitored;
  const histories = s.monitoredHistories;
  const threshold = s.config.phiThreshold;
  let due = Number.POSITIVE_INFINITY;
  let floor = Number.POSITIVE_INFINITY;
  for (let i = 0; i < monitored.length; i++) {
    const h = histories[i];
    if (!h.exceeds(s.now, threshold)) {
      const t = h.nextCheck(s.now, threshold);
      if (t < due) due = t;
      const b = h.bound();
      if (b < floor) floor = b;
      continue;
    }
    floor = Number.NEGATIVE_INFINITY;
    const n = monitored[i];
    if (s.histories.get(n) !== histories[i]) continue; // replaced (new generation) since refresh
    const m = s.members.get(n);
    if (!m || isTerminal(m.status)) continue;
    const susp = s.suspicions.get(n);
    if (susp && susp.gen === m.gen && susp.inc === m.inc && susp.origins.has(s.name)) continue;
    s.metrics.inc('suspicions_raised');
    const claim: ClaimEntry = {
      name: n,
      gen: m.gen,
      inc: m.inc,
      status: Status.suspect,
      origin: s.name,
    };
    if (m.status === Status.alive) setClaim(s, m, claim, s.name);
    else addVote(s, m, s.name, true);
    // The suspect hears it directly (to refute fast), and so do its other monitors (to confirm).
    s.rumorExtra.push(n);
    for (const co of coMonitors(s, m)) if (co !== s.name) s.rumorExtra.push(co);
    s.news = true;
  }
  s.phiFloor = floor;
  return due;
}

function coMonitors(s: CoreState, m: Member): string[] {
  return withHubs(s, s.ring.walk(m.name, m.ringPos, s.config.monitors, -1, s.isLive), m.name);
}

/** A member's monitors: its ring predecessors and the live hubs (other than itself). */
function withHubs(s: CoreState, monitors: string[], of: string): string[] {
  for (const h of s.config.hubs) if (h !== of && !monitors.includes(h) && s.isLive(h)) monitors.push(h);
  return monitors;
}
