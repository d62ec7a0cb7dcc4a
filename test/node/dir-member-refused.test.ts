/**
 * Review of the on-disk persistence: docs/node.md says a federation member's refused start leaves its data
 * directory as it was ("vote.json read before the directory is bound or a life number taken"). The directory was
 * bound first: a directory of an earlier version (vote.json and epoch.json, no member.json) whose vote.json or
 * epoch.json is damaged was refused with E_STORAGE, but member.json had been written with whatever --id the
 * refused start had, and once the file was repaired the member it belonged to was refused (E_CONFIG).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { identityFromRng, MapKeyring } from '../../src/learning/index.js';
import { FederationMember } from '../../src/node/federation-member.js';
import { UdpFederationNetwork } from '../../src/node/udp-federation.js';

const open: UdpFederationNetwork[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((n) => n.close()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A directory an earlier version of member a left: its vote and life number, no member.json. */
function earlierVersionDir(files: Record<string, string>): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'elex-review-member-'));
  dirs.push(dataDir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dataDir, name), text);
  return dataDir;
}

async function member(id: string, dataDir: string): Promise<FederationMember> {
  const network = await UdpFederationNetwork.bind({ id, listen: { host: '127.0.0.1', port: 0 } });
  open.push(network);
  const ids = ['a', 'b', 'c'].map((m, i) => identityFromRng(m, new SeededRng(i + 1)));
  const keyring = new MapKeyring();
  for (const m of ids) keyring.add(m.id, m.publicKey);
  return new FederationMember({
    id,
    members: ['a', 'b', 'c'],
    network,
    keyring,
    identity: ids.find((m) => m.id === id)!,
    dataDir,
    rng: new SeededRng(9),
  });
}

async function refusal(id: string, dataDir: string): Promise<string> {
  try {
    await (await member(id, dataDir)).stop();
    return 'started';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('a federation member refused for a damaged file leaves its directory as it was', () => {
  it('a truncated vote.json: E_STORAGE, and no member.json; once repaired, member a starts on it', async () => {
    const dataDir = earlierVersionDir({ 'vote.json': '{"term":7,"voted_', 'epoch.json': '3' });
    const before = readdirSync(dataDir).sort();
    // Started by mistake as b: refused for the damaged file, as it must be.
    expect(await refusal('b', dataDir)).toBe('E_STORAGE');
    expect(existsSync(join(dataDir, 'member.json')), 'member.json written by a refused start').toBe(false);
    expect(readdirSync(dataDir).sort()).toEqual(before);
    // The operator restores vote.json from a backup and starts the member the directory belongs to.
    writeFileSync(join(dataDir, 'vote.json'), JSON.stringify({ term: 7, voted_for: 'a' }));
    expect(await refusal('a', dataDir)).toBe('started');
  });

  it('a damaged epoch.json: E_STORAGE, and no member.json', async () => {
    const dataDir = earlierVersionDir({
      'vote.json': JSON.stringify({ term: 7, voted_for: 'a' }),
      'epoch.json': '"x',
    });
    const before = readdirSync(dataDir).sort();
    expect(await refusal('a', dataDir)).toBe('E_STORAGE');
    expect(readdirSync(dataDir).sort()).toEqual(before);
  });
});
