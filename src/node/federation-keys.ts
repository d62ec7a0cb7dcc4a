import { createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElexError } from '../core/index.js';
import { type Identity, identityFromSeed, MapKeyring } from '../learning/index.js';
import { writeFileDurably } from './durable-file.js';
import { makeDirectory } from './make-dir.js';

/**
 * Key files for federation members in processes of their own: each member's Ed25519 seed in `<id>.key` (64 hex
 * digits, readable by its owner only) and every member's public key in `keyring.json` ({id: base64 SPKI DER}),
 * the file each member loads to check the others' signatures.
 */
export function writeFederationKeys(
  dir: string,
  ids: readonly string[],
): { keyring: string; keys: string[] } {
  if (ids.length === 0 || new Set(ids).size !== ids.length)
    throw new ElexError('E_USAGE', 'member ids must be distinct and at least one');
  for (const id of ids)
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(id))
      throw new ElexError('E_USAGE', `member id '${id}' must be 1-64 of A-Z a-z 0-9 . _ -`);
  makeDirectory(dir, 'key directory');
  // Never overwrites, as cluster-key: members running with the old keys would no longer match the keyring.
  for (const name of [...ids.map((id) => `${id}.key`), 'keyring.json'])
    if (existsSync(join(dir, name)))
      throw new ElexError(
        'E_EXISTS',
        `${join(dir, name)} already exists: keys are never overwritten (remove them first, or use another --dir)`,
      );
  const ring: Record<string, string> = {};
  const keys: string[] = [];
  for (const id of ids) {
    const seed = randomBytes(32);
    const path = join(dir, `${id}.key`);
    writeFileDurably(path, `${seed.toString('hex')}\n`, 0o600);
    keys.push(path);
    const der = identityFromSeed(id, seed).publicKey.export({ format: 'der', type: 'spki' });
    ring[id] = der.toString('base64');
  }
  const keyring = join(dir, 'keyring.json');
  writeFileDurably(keyring, `${JSON.stringify(ring, null, 2)}\n`);
  return { keyring, keys };
}

/** A member's identity from its key file (`E_KEY` if it is not 64 hex digits). */
export function loadIdentity(path: string, id: string): Identity {
  const text = readKeyFile(path).trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text))
    throw new ElexError('E_KEY', `${path}: not an Ed25519 seed (64 hex digits)`);
  return identityFromSeed(id, Buffer.from(text, 'hex'));
}

/** Every member's public key from a keyring file (`E_KEY` for anything that is not one). */
export function loadKeyring(path: string): MapKeyring {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readKeyFile(path));
  } catch (e) {
    throw new ElexError('E_KEY', `${path}: not JSON (${(e as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ElexError('E_KEY', `${path}: expected {"member id": "base64 public key", …}`);
  const ring = new MapKeyring();
  for (const [id, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') throw new ElexError('E_KEY', `${path}: key of '${id}' is not a string`);
    try {
      const key = createPublicKey({ key: Buffer.from(value, 'base64'), format: 'der', type: 'spki' });
      if (key.asymmetricKeyType !== 'ed25519') throw new Error(`${key.asymmetricKeyType} key`);
      ring.add(id, key);
    } catch (e) {
      throw new ElexError(
        'E_KEY',
        `${path}: key of '${id}' is not an Ed25519 public key (${(e as Error).message})`,
      );
    }
  }
  return ring;
}

function readKeyFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    throw new ElexError('E_KEY', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}
