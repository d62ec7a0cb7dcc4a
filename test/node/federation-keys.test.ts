import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeControl, encodeControl } from '../../src/learning/index.js';
import { loadIdentity, loadKeyring, writeFederationKeys } from '../../src/node/federation-keys.js';
import { thrownElexError } from '../support/errors.js';

describe('federation key files', () => {
  it('a member signs with its key file and every member checks it with the keyring', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-keys-'));
    const { keyring, keys } = writeFederationKeys(dir, ['m0', 'm1']);
    expect(statSync(keys[0]).mode & 0o777).toBe(0o600);
    const m0 = loadIdentity(keys[0], 'm0');
    const ring = loadKeyring(keyring);
    const msg = encodeControl({ type: 'heartbeat', from: 'm0', to: 'm1', term: 1, value: 1 }, m0);
    expect(decodeControl(msg, ring)).toMatchObject({ from: 'm0', to: 'm1' });
    // m1's key cannot speak for m0.
    const forged = encodeControl(
      { type: 'heartbeat', from: 'm0', to: 'm1', term: 1, value: 1 },
      loadIdentity(keys[1], 'm0'),
    );
    expect(thrownElexError(() => decodeControl(forged, ring)).code).toMatch(/^E_/);
  });

  it('refuses what is not a key, a keyring, or an id', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-keys-'));
    const path = join(dir, 'x');
    writeFileSync(path, 'abc\n');
    expect(thrownElexError(() => loadIdentity(path, 'm0')).code).toBe('E_KEY');
    expect(thrownElexError(() => loadIdentity(join(dir, 'missing'), 'm0')).code).toBe('E_KEY');
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    for (const text of [
      '{',
      '[]',
      '{"m0": 3}',
      '{"m0": "AAAA"}',
      JSON.stringify({ m0: rsa.toString('base64') }),
    ]) {
      writeFileSync(path, text);
      expect(thrownElexError(() => loadKeyring(path)).code).toBe('E_KEY');
    }
    expect(thrownElexError(() => writeFederationKeys(dir, ['m0', 'm0'])).code).toBe('E_USAGE');
    expect(thrownElexError(() => writeFederationKeys(dir, ['a b'])).code).toBe('E_USAGE');
  });
});
