/**
 * Signed control messages of the per-category aggregator election and acknowledgements.
 *
 *   u16 magic 0x4351 ('QC'), u8 format (2), u8 type, str from, str to, varint term, varint value,
 *   64-byte signature
 *
 * `to` is signed too, so a granted vote is a transferable proof that `from` voted for `to` in `term`: an
 * aggregator shows a majority of them (an election certificate) before members adopt its aggregates.
 *
 * type 1 vote request (value = the candidate's last applied aggregate, term · 2^21 + round; voters refuse a
 * candidate less fresh than themselves), 2 vote granted (value = 1) or refused (0), 3 ack (value = the acked
 * version of the receiver's table), 4 pre-vote request and 5 pre-vote (term = the term the candidate would
 * take; value as for vote requests and votes). Envelope byte 0 on the network distinguishes deltas (1) from controls (2).
 */
import { ByteReader, ByteWriter, ElexError } from '../core/index.js';
import { type Identity, type Keyring, SIGNATURE_BYTES, signBytes, verifyBytes } from './identity.js';

export const CONTROL_MAGIC = 0x4351;
/** Highest term a control message may carry: term + 1 stays exact and encodable (varints reach 2^56). */
export const MAX_TERM = 0xffff_ffff;
export type ControlType =
  | 'vote-request'
  | 'vote'
  | 'ack'
  | 'pre-vote-request'
  | 'pre-vote'
  | 'heartbeat'
  | 'heartbeat-ack';
/** Every control message type, in wire order (the type byte is the index + 1). */
export const CONTROL_TYPES: readonly ControlType[] = [
  'vote-request',
  'vote',
  'ack',
  'pre-vote-request',
  'pre-vote',
  'heartbeat',
  'heartbeat-ack',
];

export interface Control {
  type: ControlType;
  from: string;
  to: string;
  term: number;
  value: number;
}

export function encodeControl(c: Control, signer: Identity): Uint8Array {
  if (c.from !== signer.id)
    throw new ElexError('E_ENCODE', `identity ${signer.id} cannot sign for ${c.from}`);
  // Never write what every decoder refuses: the sender would not learn its message was dropped.
  if (c.term > MAX_TERM) throw new ElexError('E_ENCODE', `control term ${c.term} exceeds ${MAX_TERM}`);
  const w = new ByteWriter(96);
  w.u16(CONTROL_MAGIC)
    .u8(2)
    .u8(CONTROL_TYPES.indexOf(c.type) + 1)
    .str(c.from)
    .str(c.to)
    .varint(c.term)
    .varint(c.value);
  const unsigned = w.finish();
  const out = new Uint8Array(unsigned.length + SIGNATURE_BYTES);
  out.set(unsigned);
  out.set(signBytes(signer, unsigned), unsigned.length);
  return out;
}

export function decodeControl(bytes: Uint8Array, keys: Keyring): Control {
  if (bytes.length > 1024) throw new ElexError('E_OVERSIZE', `control message of ${bytes.length} bytes`);
  if (bytes.length < 6 + SIGNATURE_BYTES) throw new ElexError('E_DECODE', 'truncated control message');
  const signed = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const r = new ByteReader(signed);
  if (r.u16() !== CONTROL_MAGIC) throw new ElexError('E_DECODE', 'bad magic: not a control message');
  if (r.u8() !== 2) throw new ElexError('E_DECODE', 'unsupported control format');
  const t = r.u8();
  if (t < 1 || t > CONTROL_TYPES.length) throw new ElexError('E_DECODE', `unknown control type ${t}`);
  const from = r.str(64);
  const to = r.str(64);
  const term = r.varint();
  const value = r.varint();
  r.end();
  // A term past 2^53 loses precision and cannot be re-encoded: adopting one broke every later sync.
  if (term > MAX_TERM || !Number.isSafeInteger(value))
    throw new ElexError('E_DECODE', `control term ${term} or value ${value} out of range`);
  const key = keys.publicKey(from);
  if (!key) throw new ElexError('E_SIGNATURE', `unknown origin '${from}'`);
  if (!verifyBytes(key, signed, bytes.subarray(bytes.length - SIGNATURE_BYTES))) {
    throw new ElexError('E_SIGNATURE', `bad signature for origin '${from}'`);
  }
  return { type: CONTROL_TYPES[t - 1], from, to, term, value };
}
