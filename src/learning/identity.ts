/**
 * Ed25519 identities (node:crypto). In simulation and tests the private key is derived from a 32-byte seed
 * drawn from injected randomness, so the same seed gives the same keys and the same signatures.
 */
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { ElexError, type Rng } from '../core/index.js';

const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

export interface Identity {
  readonly id: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

export function identityFromSeed(id: string, seed: Uint8Array): Identity {
  if (seed.length !== 32) throw new ElexError('E_KEY', `an Ed25519 seed is 32 bytes, got ${seed.length}`);
  const der = new Uint8Array(48);
  der.set(PKCS8_ED25519_PREFIX, 0);
  der.set(seed, 16);
  const privateKey = createPrivateKey({ key: Buffer.from(der), format: 'der', type: 'pkcs8' });
  return { id, privateKey, publicKey: createPublicKey(privateKey) };
}

export function identityFromRng(id: string, rng: Rng): Identity {
  const seed = new Uint8Array(32);
  const view = new DataView(seed.buffer);
  for (let i = 0; i < 8; i++) view.setUint32(i * 4, rng.u32(), true);
  return identityFromSeed(id, seed);
}

export const SIGNATURE_BYTES = 64;

export function signBytes(id: Identity, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, id.privateKey));
}

export function verifyBytes(publicKey: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return verify(null, data, publicKey, signature);
  } catch {
    return false;
  }
}

/** Public keys of the federation's members, by id. Unknown origins are refused. */
export interface Keyring {
  publicKey(id: string): KeyObject | undefined;
}

export class MapKeyring implements Keyring {
  private readonly keys = new Map<string, KeyObject>();
  add(id: string, key: KeyObject): this {
    this.keys.set(id, key);
    return this;
  }
  publicKey(id: string): KeyObject | undefined {
    return this.keys.get(id);
  }
}
