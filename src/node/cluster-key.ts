/**
 * Peer authentication with a pre-shared cluster key (memberlist's keyring, Erlang's cookie): every Raft frame
 * and gossip datagram carries an HMAC-SHA256 tag, and a message that does not verify under a key of the ring
 * is refused before any decoder sees it. Authenticity and integrity only, not secrecy: the bytes travel in the
 * clear (run on a private network or a tunnel when they must not be read). Replays of authentic messages are
 * not refused here: Raft's safety assumes duplicated and reordered messages, and gossip supersedes by
 * incarnation.
 */

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { ElexError } from '../core/index.js';

/** What a message is for: the tag covers it, so a Raft frame cannot be replayed as a gossip datagram or an HTTP request. */
export type AuthContext = 'raft' | 'raft-hello' | 'gossip' | 'http';

const VERSION = 1;
const KEY_BYTES = 32;
const KEY_ID_BYTES = 4;
const TAG_BYTES = 16;
const HEADER_BYTES = 1 + KEY_ID_BYTES;
/** More keys than this in one ring is a mistake, not a rotation. */
const MAX_KEYS = 8;

/** Bytes a sealed message carries beyond its payload. */
export const AUTH_OVERHEAD = HEADER_BYTES + TAG_BYTES;

function keyId(key: Uint8Array): number {
  return createHash('sha256').update('elex cluster key id').update(key).digest().readUInt32BE(0);
}

function tag(key: Uint8Array, context: AuthContext, header: Uint8Array, payload: Uint8Array): Buffer {
  return createHmac('sha256', key)
    .update(`elex ${context}\n`)
    .update(header)
    .update(payload)
    .digest()
    .subarray(0, TAG_BYTES);
}

/**
 * One or more 32-byte keys: the first seals, every one opens. Rotation without downtime: add the new key
 * second on every member, then make it first on every member, then drop the old one.
 */
export class ClusterKeyring {
  private readonly byId = new Map<number, Uint8Array>();
  private readonly primary: Uint8Array;
  private readonly primaryId: number;

  private constructor(keys: readonly Uint8Array[]) {
    this.primary = keys[0];
    this.primaryId = keyId(keys[0]);
    for (const k of keys) this.byId.set(keyId(k), k);
  }

  static of(keys: readonly Uint8Array[]): ClusterKeyring {
    if (keys.length === 0 || keys.length > MAX_KEYS)
      throw new ElexError('E_KEY', `a keyring holds 1 to ${MAX_KEYS} keys, got ${keys.length}`);
    const ids = new Set<number>();
    for (const k of keys) {
      if (k.length !== KEY_BYTES)
        throw new ElexError('E_KEY', `a cluster key is ${KEY_BYTES} bytes, got ${k.length}`);
      const id = keyId(k);
      if (ids.has(id)) throw new ElexError('E_KEY', 'the same key twice in one keyring');
      ids.add(id);
    }
    return new ClusterKeyring(keys.map((k) => Uint8Array.from(k)));
  }

  /** `payload` with a header (version, key id) before it and a tag after it. */
  seal(context: AuthContext, payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(HEADER_BYTES + payload.length + TAG_BYTES);
    const view = new DataView(out.buffer);
    out[0] = VERSION;
    view.setUint32(1, this.primaryId);
    out.set(payload, HEADER_BYTES);
    out.set(
      tag(this.primary, context, out.subarray(0, HEADER_BYTES), payload),
      HEADER_BYTES + payload.length,
    );
    return out;
  }

  /** The payload of a sealed message; E_AUTH if it is not one, or not sealed by a key of this ring for `context`. */
  open(context: AuthContext, sealed: Uint8Array): Uint8Array {
    if (sealed.length < AUTH_OVERHEAD)
      throw new ElexError('E_AUTH', `${sealed.length} bytes is shorter than an authenticated message`);
    if (sealed[0] !== VERSION) throw new ElexError('E_AUTH', `unknown authentication version ${sealed[0]}`);
    const id = new DataView(sealed.buffer, sealed.byteOffset, sealed.length).getUint32(1);
    const key = this.byId.get(id);
    if (key === undefined) throw new ElexError('E_AUTH', 'sealed with a key this keyring does not hold');
    const end = sealed.length - TAG_BYTES;
    const payload = sealed.subarray(HEADER_BYTES, end);
    const want = tag(key, context, sealed.subarray(0, HEADER_BYTES), payload);
    if (!timingSafeEqual(want, sealed.subarray(end))) throw new ElexError('E_AUTH', 'bad authentication tag');
    return payload;
  }
}

/** The text of a key file: one key per line in hex; `#` starts a comment. */
export function parseClusterKeys(text: string, source = 'cluster key'): ClusterKeyring {
  const keys: Uint8Array[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    if (!/^[0-9a-fA-F]{64}$/.test(line))
      throw new ElexError('E_KEY', `${source}, line ${i + 1}: expected ${KEY_BYTES} bytes as 64 hex digits`);
    keys.push(Buffer.from(line, 'hex'));
  });
  if (keys.length === 0) throw new ElexError('E_KEY', `${source}: no key in it`);
  return ClusterKeyring.of(keys);
}

export function readClusterKeyring(path: string): ClusterKeyring {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ElexError('E_KEY', `cannot read the cluster key ${path}: ${(e as Error).message}`);
  }
  return parseClusterKeys(text, path);
}

/** Writes a fresh random key to a new file readable by its owner only; refuses to overwrite one. */
export function writeClusterKey(path: string): void {
  const text = `# elex cluster key: every member of the cluster needs this file\n${randomBytes(KEY_BYTES).toString('hex')}\n`;
  try {
    writeFileSync(path, text, { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600); // the mode above is masked by the umask
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST')
      throw new ElexError(
        'E_EXISTS',
        `${path} exists: a key file is never overwritten (move it aside first)`,
      );
    throw new ElexError('E_KEY', `cannot write the cluster key ${path}: ${(e as Error).message}`);
  }
}
