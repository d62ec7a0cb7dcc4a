import { SeededRng } from '../../src/core/index.js';
import {
  AggregatorElection,
  type ControlType,
  decodeControl,
  encodeControl,
  type Identity,
  identityFromRng,
  MapKeyring,
  type VoteState,
} from '../../src/learning/index.js';
import { codeOf } from './error-code.js';

export const INTERVAL = 1000;

export interface Msg {
  from: string;
  to: string;
  kind: 'control' | 'certificate';
  bytes: Uint8Array;
}

/**
 * Elections wired to each other with no table and no network: every signed control message and certificate
 * queues in `inbox`; the test decides what is delivered, when, in which order, and what is lost. `restart`
 * builds a new incarnation from the (term, vote) its predecessor last handed to `onVoteState`; `sent` records
 * every control message with what its sender had made durable when it left.
 */
export function electionCategory(ids: readonly string[], seed = 1) {
  const keyring = new MapKeyring();
  const keys = new Map<string, Identity>();
  for (const id of ids) {
    const k = identityFromRng(id, new SeededRng(7).fork(id));
    keys.set(id, k);
    keyring.add(id, k.publicKey);
  }
  const inbox: Msg[] = [];
  /** Every message sent, for replays. */
  const wire: Msg[] = [];
  /** What each member made durable through `onVoteState`, in order. */
  const saved = new Map<string, VoteState[]>();
  const elections = new Map<string, AggregatorElection>();
  /** Every control message each member sent, in order, with what it had made durable when it sent it. */
  const sent: Array<{
    from: string;
    to: string;
    type: ControlType;
    term: number;
    value: number;
    durable: VoteState | undefined;
  }> = [];
  let incarnation = 0;
  const make = (id: string, now: number, amnesia = false): AggregatorElection => {
    const history = saved.get(id) ?? [];
    saved.set(id, history);
    const durable = amnesia ? undefined : history.at(-1);
    return new AggregatorElection({
      id,
      peers: ids.filter((p) => p !== id),
      byzantineThreshold: 0.33,
      syncIntervalMs: INTERVAL,
      keyring,
      rng: new SeededRng(seed).fork(`${id}/${incarnation++}`),
      transport: {
        control: (to: string, type: ControlType, value: number, term: number) => {
          sent.push({ from: id, to, type, term, value, durable: saved.get(id)?.at(-1) });
          const m: Msg = {
            from: id,
            to,
            kind: 'control',
            bytes: encodeControl({ type, from: id, to, term, value }, keys.get(id)!),
          };
          inbox.push(m);
          wire.push(m);
        },
        certificate: (to, bytes) => {
          const m: Msg = { from: id, to, kind: 'certificate', bytes };
          inbox.push(m);
          wire.push(m);
        },
      },
      hooks: { steppedDown: () => {}, becameLeader: () => {} },
      voteState: durable ? { ...durable } : undefined,
      onVoteState: (s) => history.push({ ...s }),
      now,
    });
  };
  for (const id of ids) elections.set(id, make(id, 0));
  return {
    ids,
    keys,
    keyring,
    inbox,
    history: wire,
    saved,
    sent,
    elections,
    get: (id: string) => elections.get(id)!,
    /**
     * A crash and restart: messages it already sent stay in flight (they left before the crash). With
     * `amnesia` the new incarnation is not given what was made durable (a broken deployment: positive control).
     */
    restart: (id: string, now: number, amnesia = false) => {
      elections.set(id, make(id, now, amnesia));
    },
    /** A control message `from` signs itself (a Byzantine member speaks only as itself). */
    forge: (from: string, to: string, type: ControlType, term: number, value: number): Msg => ({
      from,
      to,
      kind: 'control',
      bytes: encodeControl({ type, from, to, term, value }, keys.get(from)!),
    }),
  };
}

type Category = ReturnType<typeof electionCategory>;

/** One sync of every live member as `FederatedQTable.sync` drives its election: lead, follow, or tick. */
export function syncAll(c: Category, now: number, down: ReadonlySet<string> = new Set()): void {
  for (const id of c.ids) {
    if (down.has(id)) continue;
    const e = c.get(id);
    if (e.isLeader) {
      e.broadcastCertificate();
      e.heartbeat(now);
    } else if (e.liveLeader(now) === null) {
      e.forgetLeader();
      e.tick(now);
    }
  }
}

/** Delivers `m`; a refusal's code goes into `refused`. */
export function deliver(c: Category, m: Msg, now: number, refused: string[]): void {
  const e = c.get(m.to);
  const code = codeOf(() => {
    if (m.kind === 'certificate') e.onCertificate(m.bytes);
    else e.step(decodeControl(m.bytes, c.keyring), m.bytes, now);
  });
  if (code !== 'ok') refused.push(code);
}

/** Delivers everything queued (and what that sends); messages to or from `down` are lost. Returns the refusals. */
export function deliverAll(c: Category, now: number, down: ReadonlySet<string> = new Set()): string[] {
  const refused: string[] = [];
  while (c.inbox.length > 0) {
    const m = c.inbox.shift()!;
    if (down.has(m.to) || down.has(m.from)) continue;
    deliver(c, m, now, refused);
  }
  return refused;
}
