import { describe, expect, it } from 'vitest';
import { FederatedQTable, type FederationConfig, MapKeyring } from '../../src/learning/index.js';

describe('a refused FederatedQTable configuration leaves the caller’s keyring untouched', () => {
  it.each<[string, FederationConfig['learning']]>([
    ['more than 8 actions', { actions: 9 }],
    ['α outside (0, 1]', { alpha: 2 }],
    ['γ outside [0, 1)', { gamma: 1.5 }],
  ])('%s: E_CONFIG, and a live member’s key under that id is not replaced', (_name, learning) => {
    const keyring = new MapKeyring();
    const live = new FederatedQTable({ id: 'a', keyring, seed: 1 });
    const key = keyring.publicKey('a');
    expect(key).toBeDefined();
    expect(live.id).toBe('a');
    // Another construction under the same id with another seed (so another key) is refused ...
    expect(() => new FederatedQTable({ id: 'a', keyring, seed: 2, learning })).toThrow(
      expect.objectContaining({ code: 'E_CONFIG' }),
    );
    // ... and the live member's messages still verify under its own key.
    expect(keyring.publicKey('a')).toBe(key);
  });

  it('a refused first construction adds no key', () => {
    const keyring = new MapKeyring();
    expect(() => new FederatedQTable({ id: 'b', keyring, learning: { actions: 9 } })).toThrow();
    expect(keyring.publicKey('b')).toBeUndefined();
  });
});
