/**
 * User-level review of the `elex` command line: problems a user hits with bad input, each shown by running
 * the real command. Every case here is refused before any real work (or is tiny): a hang shows up as
 * `code: null` (killed by the timeout).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/node/processes.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[], o: { env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(process.execPath, [ELEX, ...args], {
    encoding: 'utf8',
    timeout: o.timeout ?? 20_000,
    env: o.env ?? process.env,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A refusal: non-zero exit, nothing on stdout, no stack trace, one line with a typed reason. */
function expectRefused(r: ReturnType<typeof elex>, reason: RegExp) {
  expect(r.code, r.stderr).not.toBe(null); // null: killed by the timeout (it hung)
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr, 'a JavaScript stack trace').not.toMatch(/^\s+at /m);
  expect(r.stderr).toMatch(reason);
}

/** A typed one-line error: `elex: … [E_CODE]` (exit 1) or commander's usage error (exit 2). */
const TYPED = /^elex: .*\[E_[A-Z_]+\]$|^error: /m;

const made: string[] = [];
const scratch = (name: string) => {
  const dir = mkdtempSync(join(tmpdir(), `elex-review-${name}-`));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

describe('a path that is a file where a directory is expected', () => {
  it('node --data-dir FILE is refused in one typed line, not a stack trace', async () => {
    const dir = scratch('dd');
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const [raft] = await freePorts(1);
    const r = elex(['node', '--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--data-dir', file]);
    expectRefused(r, TYPED);
  });

  it('coordinator --data-dir FILE is refused in one typed line, not a stack trace', async () => {
    const dir = scratch('cd');
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const [raft] = await freePorts(1);
    const r = elex(['coordinator', '--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--data-dir', file]);
    expectRefused(r, TYPED);
  });

  it('node: a data directory whose raft.disk is a directory is refused in one typed line (E_STORAGE)', async () => {
    const dir = scratch('disk');
    mkdirSync(join(dir, 'n1', 'raft.disk'), { recursive: true });
    const [raft] = await freePorts(1);
    const r = elex(['node', '--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--data-dir', join(dir, 'n1')]);
    expectRefused(r, TYPED);
  });

  it('cluster --dir FILE is refused in one typed line, not a stack trace', () => {
    const dir = scratch('cl');
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const r = elex(['cluster', '--dir', file, '--nodes', '1', '--kills', '0', '--writes', '1', '--quiet']);
    expectRefused(r, TYPED);
  });

  it('federation-keys --dir FILE is refused in one typed line, not a stack trace', () => {
    const dir = scratch('fk');
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    expectRefused(elex(['federation-keys', '--members', 'm0,m1', '--dir', file]), TYPED);
  });

  it('federation-member --data-dir FILE is refused in one typed line, not a stack trace', async () => {
    const dir = scratch('fm');
    const keys = join(dir, 'keys');
    expect(elex(['federation-keys', '--members', 'm0,m1', '--dir', keys]).code).toBe(0);
    const file = join(dir, 'afile');
    writeFileSync(file, 'x');
    const [p0, p1] = await freePorts(2);
    const r = elex([
      'federation-member',
      '--id',
      'm0',
      '--members',
      `m0=127.0.0.1:${p0},m1=127.0.0.1:${p1}`,
      '--key',
      join(keys, 'm0.key'),
      '--keyring',
      join(keys, 'keyring.json'),
      '--data-dir',
      file,
    ]);
    expectRefused(r, TYPED);
  });

  it('node --data-dir on a virtual file system (/proc) is refused, not a silent hang (--out already guards this)', async () => {
    const [raft] = await freePorts(1);
    const r = elex(['node', '--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--data-dir', '/proc/elex-x'], {
      timeout: 15_000,
    });
    expectRefused(r, TYPED);
  });
});

describe('elex cluster', () => {
  it('a refused option leaves no temporary directory behind', () => {
    const tmp = scratch('tmpdir');
    const env = { ...process.env, TMPDIR: tmp };
    expectRefused(elex(['cluster', '--nodes', '2'], { env }), /--kills needs at least 3 nodes.*\[E_USAGE\]/);
    expectRefused(
      elex(['cluster', '--app', 'coordinator', '--nodes', '3', '--down', '1', '--stall', '1'], { env }),
      /quorum.*\[E_USAGE\]/,
    );
    // tsx may keep its own cache directory there; nothing of elex cluster's may remain.
    expect(readdirSync(tmp).filter((f) => f.startsWith('elex-cluster-'))).toEqual([]);
  });
});

describe('elex federation-keys', () => {
  it('never overwrites existing private keys (a second run silently replaced every member key)', () => {
    const dir = join(scratch('fkeys'), 'keys');
    const first = elex(['federation-keys', '--members', 'm0,m1,m2', '--dir', dir]);
    expect(first.code, first.stderr).toBe(0);
    const before = ['m0.key', 'm1.key', 'm2.key', 'keyring.json'].map((f) =>
      readFileSync(join(dir, f), 'utf8'),
    );
    const again = elex(['federation-keys', '--members', 'm0,m1,m2', '--dir', dir]);
    const after = ['m0.key', 'm1.key', 'm2.key', 'keyring.json'].map((f) =>
      readFileSync(join(dir, f), 'utf8'),
    );
    expect(after, 'the existing keys must be left alone').toEqual(before);
    expectRefused(again, TYPED);
  });
});

describe('elex admin', () => {
  it('a node id that is not a decimal integer is refused before anything is sent', () => {
    // Number('') is 0 and Number('0x2') is 2: `elex admin remove "$ID"` with ID unset would remove node 0.
    // The address is unreachable on purpose: E_UNREACHABLE means the request was sent.
    for (const id of ['', '0x2', '1e1', ' 3 ']) {
      const r = elex(['admin', 'remove', id, '--at', '127.0.0.1:1', '--timeout', '300']);
      expectRefused(r, /node id/);
      expect(r.stderr).not.toMatch(/E_UNREACHABLE/);
    }
  });

  it('--timeout takes a duration like every other duration option (README: 500ms, 30s, 10m, 1h)', () => {
    const r = elex(['admin', 'transfer', '2', '--at', '127.0.0.1:1', '--timeout', '1s']);
    // Nothing listens there: the only acceptable refusal is that no answer came.
    expectRefused(r, /no answer from 127\.0\.0\.1:1.*\[E_UNREACHABLE\]/);
  });
});

describe('elex simulate raft --scenario flapping', () => {
  it('refuses the campaign options it does not use instead of silently ignoring them', () => {
    const flap = ['simulate', 'raft', '--scenario', 'flapping'];
    // --mutation plants a bug: a clean report from a run that planted nothing is misleading.
    expectRefused(elex([...flap, '--mutation', 'vote-twice']), /--mutation.*flapping/);
    expectRefused(elex([...flap, '--runs', '5']), /--runs.*flapping/);
    expectRefused(elex([...flap, '--duration', '5s']), /--duration.*flapping/);
  });

  it('--nodes below what the scenario needs is refused, not silently raised to 3', () => {
    const r = elex(['simulate', 'raft', '--scenario', 'flapping', '--nodes', '1']);
    if (r.code === 0) expect(JSON.parse(r.stdout).nodes, 'ran with another --nodes than asked').toBe(1);
    else expectRefused(r, /--nodes/);
  });
});

describe('--quiet on the long-running simulations', () => {
  it.each([
    ['swarm', ['simulate', 'swarm', '--duration', '2s', '--json']],
    ['basic', ['simulate', 'basic', '--nodes', '5', '--duration', '5s', '--json']],
    ['gossip', ['simulate', 'gossip', '--members', '5', '--scenario', 'steady', '--duration', '5s']],
  ])('simulate %s --quiet silences the progress (raft and federation take it)', (_name, args) => {
    const r = elex([...args, '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    JSON.parse(r.stdout);
  });
});
