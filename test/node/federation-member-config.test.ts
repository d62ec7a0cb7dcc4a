import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { identityFromRng, MapKeyring } from '../../src/learning/index.js';
import { FederationMember } from '../../src/node/federation-member.js';
import { UdpFederationNetwork } from '../../src/node/udp-federation.js';
import { thrownElexError } from '../support/errors.js';

const open: UdpFederationNetwork[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function attempt(federation: Record<string, unknown>) {
  const network = await UdpFederationNetwork.bind({ id: 'a', listen: { host: '127.0.0.1', port: 0 } });
  open.push(network);
  const ids = ['a', 'b', 'c'].map((id, i) => identityFromRng(id, new SeededRng(i + 1)));
  const keyring = new MapKeyring();
  for (const id of ids) keyring.add(id.id, id.publicKey);
  const dataDir = mkdtempSync(join(tmpdir(), 'elex-fed-cfg-'));
  dirs.push(dataDir);
  const err = thrownElexError(
    () =>
      new FederationMember({
        id: 'a',
        members: ['a', 'b', 'c'],
        network,
        keyring,
        identity: ids[0],
        dataDir,
        federation: federation as never,
        rng: new SeededRng(9),
      }),
  );
  return { err, dataDir };
}

describe('FederationMember: a refused configuration', () => {
  it('min_peers_for_consensus above the members is refused (E_CONFIG) without consuming a life number', async () => {
    const { err, dataDir } = await attempt({ min_peers_for_consensus: 5 });
    expect(err.code).toBe('E_CONFIG');
    // The life number is taken only for a member that will run: a refused start must not write epoch.json.
    expect(existsSync(join(dataDir, 'epoch.json')), `files left: ${readdirSync(dataDir)}`).toBe(false);
  });

  it('an unknown configuration key is refused (E_CONFIG) without writing anything in the data directory', async () => {
    const { err, dataDir } = await attempt({ syncIntervalMs: 100 });
    expect(err.code).toBe('E_CONFIG');
    expect(readdirSync(dataDir)).toEqual([]);
  });
});

describe('FederationMember: a damaged vote.json', () => {
  it('a saved term beyond any term (2^33) is refused as a damaged file (E_STORAGE) before a life number is taken', async () => {
    const network = await UdpFederationNetwork.bind({ id: 'a', listen: { host: '127.0.0.1', port: 0 } });
    open.push(network);
    const ids = ['a', 'b', 'c'].map((id, i) => identityFromRng(id, new SeededRng(i + 1)));
    const keyring = new MapKeyring();
    for (const id of ids) keyring.add(id.id, id.publicKey);
    const dataDir = mkdtempSync(join(tmpdir(), 'elex-fed-vote-'));
    dirs.push(dataDir);
    writeFileSync(join(dataDir, 'member.json'), JSON.stringify({ id: 'a' }));
    writeFileSync(join(dataDir, 'epoch.json'), '4');
    writeFileSync(join(dataDir, 'vote.json'), JSON.stringify({ term: 2 ** 33, voted_for: null }));
    const err = thrownElexError(
      () =>
        new FederationMember({
          id: 'a',
          members: ['a', 'b', 'c'],
          network,
          keyring,
          identity: ids[0],
          dataDir,
          rng: new SeededRng(9),
        }),
    );
    // docs/node.md: "a damaged file is refused with E_STORAGE".
    expect(err.code, err.message).toBe('E_STORAGE');
    expect(readFileSync(join(dataDir, 'epoch.json'), 'utf8')).toBe('4');
  });
});
