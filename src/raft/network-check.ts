/**
 * What no correct peer sends. The codec checks each field on its own; these are the checks across fields that
 * the core's assertions take for granted, so a message failing one is dropped before it reaches the core
 * instead of stopping the node (DESIGN §2.5). etcd trusts its peers here; coordinators are trusted too, but a
 * corrupted or hostile frame must not be able to stop one.
 */
import { EntryType, type Message, MsgType } from './types.js';

/** Requests a follower forwards to its leader: they may name this node as `from`, and carry no term. */
export function isForwarded(type: MsgType): boolean {
  return type === MsgType.Prop || type === MsgType.ReadIndex || type === MsgType.TransferLeader;
}

/** Why `m`, received from the network by node `self`, is refused; null when it may be stepped. */
export function networkRefusal(m: Message, self: number): string | null {
  if (m.type === MsgType.Hup) return 'an election request comes only from this node';
  const forwarded = isForwarded(m.type);
  if (m.from === self && !forwarded) return `message type ${m.type} cannot come from this node`;
  // Term 0 marks a local request; from a peer it would skip every term check.
  if (m.term === 0 && !forwarded) return `message type ${m.type} from ${m.from} has no term`;
  // A membership change is proposed only on the leader (RawNode.proposeConfChange checks one-at-a-time and the
  // resulting configuration there); forwarded, it would bypass both: three removals in one Prop emptied the group.
  if (m.type === MsgType.Prop && m.entries.some((e) => e.type !== EntryType.Normal))
    return 'a forwarded proposal carries a membership change';
  if (m.type === MsgType.App) {
    let term = m.logTerm;
    for (let i = 0; i < m.entries.length; i++) {
      const e = m.entries[i];
      if (e.index !== m.index + 1 + i) return `App entry ${i} has index ${e.index}, not ${m.index + 1 + i}`;
      if (e.term < term || e.term > m.term) return `App entry ${e.index} has term ${e.term} out of order`;
      term = e.term;
    }
  }
  if (m.type === MsgType.Snap) {
    if (m.snapMeta === null || m.chunk === null) return 'a Snap carries its metadata and a chunk';
    if (m.index + m.chunk.length > m.chunkTotal) return 'a Snap chunk ends past its total';
  }
  return null;
}
