import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFederationKeys } from '../../src/node/federation-keys.js';
import { freePorts } from '../../src/node/processes.js';
import { waitUntil } from '../support/wait.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

interface Status {
  event: string;
  id: string;
  state: string;
  term: number;
  leader: string | null;
  aggregate: [number, number];
  max_abs_error: number;
  errors: Record<string, number>;
}

/** Starts `elex federation-member …` and collects its JSON lines. */
function member(args: string[]) {
  // With the young-generation flag the command runs in this child itself (no re-exec): the SIGKILL lands on
  // the member itself, with nothing in between.
  const p = spawn(process.execPath, ['--max-semi-space-size=64', ELEX, 'federation-member', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  const lines: Status[] = [];
  let buf = '';
  p.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Status);
      buf = buf.slice(i + 1);
    }
  });
  const last = () => lines.filter((l) => l.event === 'status').at(-1);
  return { p, lines, last };
}

describe('elex federation-member: federation members as processes', () => {
  it('three processes elect an aggregator and learn; after its SIGKILL the others elect another, and it rejoins from its saved vote', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-fm-'));
    const ids = ['m0', 'm1', 'm2'];
    writeFederationKeys(join(dir, 'keys'), ids);
    const ports = await freePorts(3);
    const list = ids.map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
    const args = (id: string) => [
      ...['--id', id, '--members', list, '--key', join(dir, 'keys', `${id}.key`)],
      ...['--keyring', join(dir, 'keys', 'keyring.json'), '--data-dir', join(dir, id)],
      // Two of three members make a round, so the two left after the kill still aggregate.
      ...['--sync', '100ms', '--status', '100ms', '--min-peers', '2'],
    ];
    const members = new Map(ids.map((id) => [id, member(args(id))]));
    const seen = () => JSON.stringify([...members.values()].map((m) => m.last()));
    const agreed = (live: string[]) => {
      const st = live.map((id) => members.get(id)!.last());
      const leader = st.find((s) => s?.state === 'Leader');
      return leader !== undefined &&
        st.every(
          (s) =>
            s !== undefined && s.leader === leader.id && s.aggregate[0] === leader.term && s.aggregate[1] > 0,
        )
        ? leader
        : undefined;
    };
    await waitUntil(() => agreed(ids) !== undefined && agreed(ids)!.max_abs_error < 0.6, 60_000, seen, 50);
    const first = agreed(ids)!;
    members.get(first.id)!.p.kill('SIGKILL');
    const rest = ids.filter((id) => id !== first.id);
    await waitUntil(() => (agreed(rest)?.term ?? 0) > first.term, 60_000, seen, 50);
    const second = agreed(rest)!;
    expect(second.id).not.toBe(first.id);
    const saved = JSON.parse(readFileSync(join(dir, first.id, 'vote.json'), 'utf8')) as { term: number };
    expect(saved.term).toBeGreaterThanOrEqual(first.term);
    const back = member(args(first.id));
    members.set(first.id, back);
    await waitUntil(() => back.lines.length > 0, 30_000, seen, 50);
    // Its first words carry the term it resumed from its saved vote, not term 0.
    expect(back.lines[0]).toMatchObject({ event: 'ready', id: first.id, term: saved.term });
    await waitUntil(() => agreed(ids) !== undefined, 60_000, seen, 50);
    for (const m of members.values()) expect(m.last()?.errors).toEqual({});
    for (const m of members.values()) m.p.kill('SIGTERM');
    for (const m of members.values()) {
      if (m === members.get(first.id) && m.p.exitCode !== null) continue;
      const code = await new Promise<number | null>((r) =>
        m.p.exitCode !== null ? r(m.p.exitCode) : m.p.once('exit', r),
      );
      expect(code).toBe(0);
      expect(m.lines.at(-1)).toMatchObject({ event: 'stopped' });
    }
  }, 180_000);

  it('refuses a key that is not the one the keyring lists for the member, and a keyring without a member', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-fm-'));
    writeFederationKeys(join(dir, 'a'), ['m0', 'm1']);
    writeFederationKeys(join(dir, 'b'), ['m0', 'm1']);
    const run = (key: string, keyring: string, list = 'm0=127.0.0.1:1,m1=127.0.0.1:2') =>
      spawnSync(
        process.execPath,
        [
          ELEX,
          'federation-member',
          '--id',
          'm0',
          '--members',
          list,
          '--key',
          key,
          '--keyring',
          keyring,
          '--data-dir',
          join(dir, 'd'),
        ],
        { encoding: 'utf8', timeout: 30_000 },
      );
    const wrong = run(join(dir, 'a', 'm0.key'), join(dir, 'b', 'keyring.json'));
    expect(wrong.status).not.toBe(0);
    expect(wrong.stderr).toMatch(/E_KEY|is not the key/);
    const missing = run(
      join(dir, 'a', 'm0.key'),
      join(dir, 'a', 'keyring.json'),
      'm0=127.0.0.1:1,m1=127.0.0.1:2,m2=127.0.0.1:3',
    );
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/no key for member m2/);
    expect(wrong.stdout + missing.stdout).toBe('');
  });
});
