import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { progress } from '../../src/cli/progress.js';
import { freePorts } from '../../src/node/processes.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

/** Every case here is refused before any real work, or is tiny: a hang shows up as `code: null`. */
function elex(...args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A refusal: non-zero exit, nothing on stdout, no stack trace, and a reason that matches `reason`. */
function expectRefused(r: ReturnType<typeof elex>, reason: RegExp) {
  expect(r.code, r.stderr).not.toBe(0);
  expect(r.code, r.stderr).not.toBe(null); // null: killed by the timeout (it hung)
  expect(r.stdout).toBe('');
  expect(r.stderr).not.toMatch(/^\s+at /m);
  expect(r.stderr).toMatch(reason);
}

const FED = ['simulate', 'federation', '--mdp', 'random', '--agents', '4', '--byzantine', '1'];
const FED_SMALL = [...FED, '--seeds', '1', '--episodes', '50', '--quiet'];

describe('elex refuses bad input with a one-line reason', () => {
  it('simulate federation: an unknown --attack, --rule, --mdp or --behaviour names the option and the choices', () => {
    expectRefused(elex(...FED_SMALL, '--attack', 'none,meteor'), /--attack.*sign-flip.*'meteor'/);
    expectRefused(elex(...FED_SMALL, '--rule', 'avg'), /--rule.*trimmed-mean.*'avg'/);
    expectRefused(elex(...FED_SMALL, '--mdp', 'maze'), /--mdp.*frozen-lake.*'maze'/);
    expectRefused(elex(...FED_SMALL, '--behaviour', 'greedy'), /--behaviour.*epsilon-greedy.*'greedy'/);
  });

  it('simulate federation: --byzantine not below --agents is a usage error, not a stack trace', () => {
    const r = elex('simulate', 'federation', '--agents', '3', '--byzantine', '3', '--seeds', '1');
    expectRefused(r, /--byzantine.*--agents/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('simulate gossip: an option its scenario does not use is refused (it was silently ignored)', () => {
    const g = ['simulate', 'gossip', '--members', '5'];
    expectRefused(
      elex(...g, '--scenario', 'crash', '--loss', '0.1'),
      /--loss does not apply to --scenario crash.*dissemination, steady, pauses, churn/,
    );
    expectRefused(elex(...g, '--scenario', 'steady', '--trials', '5'), /--trials does not apply/);
    expectRefused(elex(...g, '--scenario', 'dissemination', '--split', '0.1'), /--split does not apply/);
    // The options a scenario does use still run it.
    const ok = elex(...g, '--scenario', 'dissemination', '--trials', '1', '--loss', '0.1');
    expect(ok.code, ok.stderr).toBe(0);
  });

  it('simulate raft: an unknown --scenario is refused (it used to run the campaign)', () => {
    expectRefused(
      elex('simulate', 'raft', '--runs', '1', '--scenario', 'flap'),
      /--scenario.*campaign, flapping/,
    );
  });

  it('simulate: an unknown scenario names the scenarios', () => {
    expectRefused(
      elex('simulate', 'swrm'),
      /unknown scenario 'swrm'.*swarm, basic, raft, gossip, federation/,
    );
  });

  it('intervals of zero are refused instead of hanging', () => {
    const basic = ['simulate', 'basic', '--nodes', '3', '--duration', '1s'];
    expectRefused(elex(...basic, '--send-interval', '0'), /--send-interval.*greater than 0/);
    expectRefused(
      elex('simulate', 'swarm', '--duration', '1s', '--sync-interval', '0ms'),
      /--sync-interval.*greater than 0/,
    );
    expectRefused(
      elex('simulate', 'gossip', '--scenario', 'pauses', '--pause-ms', '0', '--members', '5'),
      /--pause-ms.*greater than 0/,
    );
  });

  it('an absurd --duration is refused instead of running forever', () => {
    expectRefused(
      elex('simulate', 'basic', '--nodes', '3', '--duration', '99999999999999999999h'),
      /--duration.*at most/,
    );
  });

  it('bench gossip: too few --members is refused, not a TypeError', () => {
    expectRefused(
      elex('bench', 'gossip', '--members', '2', '--messages', '1000', '--repeat', '1'),
      /--members.*3\.\./,
    );
  });

  it('bench sizes are bounded: a run that would never end or never fit in memory is refused up front', () => {
    expectRefused(elex('bench', 'raft', '--entries', '1000000000000'), /--entries.*1000\.\.100000000/);
    expectRefused(elex('bench', 'gossip', '--messages', '1000000000000'), /--messages.*1000\.\.100000000/);
    expectRefused(elex('bench', 'sim', '--events', '1000000000000'), /--events.*1000\.\.1000000000/);
    expectRefused(
      elex('bench', 'raft', '--entry-bytes', '1048576', '--batch', '65536'),
      /--entry-bytes × --batch.*GiB/,
    );
  });

  it('catalog --find with no match says so on stderr', () => {
    const r = elex('catalog', '--find', 'zzqqxx');
    expectRefused(r, /no feature.*zzqqxx/);
    const j = elex('catalog', '--find', 'zzqqxx', '--json');
    expect(j.code).toBe(0);
    expect(JSON.parse(j.stdout)).toEqual([]);
  });
});

describe('--out', () => {
  it('an unusable --out is refused before the simulation runs, in one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-out-'));
    const file = join(dir, 'a-file');
    writeFileSync(file, 'keep me');
    for (const out of [file, join(file, 'sub')]) {
      const r = elex('simulate', 'basic', '--nodes', '3', '--duration', '1s', '--out', out);
      expectRefused(r, /--out.*\[E_OUTPUT\]/);
      expect(r.stderr).not.toMatch(/simulated/); // refused before any progress
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    expect(readFileSync(file, 'utf8')).toBe('keep me');
    expectRefused(elex('simulate', 'basic', '--nodes', '3', '--duration', '1s', '--out', ''), /--out/);
  });

  it('simulate swarm --runs N --out writes report.html as its help says, with a row per run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-out-'));
    const r = elex(
      'simulate',
      'swarm',
      '--duration',
      '2s',
      '--runs',
      '2',
      '--seed',
      '7',
      '--quiet',
      '--out',
      dir,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/report\.json, .*report\.html/);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    expect(html).toMatch(/<title>elex simulate swarm, 2 runs \(seeds 7\.\.8\)<\/title>/);
    for (const seed of [7, 8]) expect(html).toMatch(new RegExp(`<td>${seed}</td>`));
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).runs).toBe(2);
  });

  it('an existing report is left alone when the options are refused', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-out-'));
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'report.json'), '{"old":true}\n');
    const r = elex(
      'simulate',
      'basic',
      '--nodes',
      '3',
      '--duration',
      '1s',
      '--faults',
      'meteor',
      '--out',
      dir,
    );
    expectRefused(r, /meteor/);
    expect(readFileSync(join(dir, 'report.json'), 'utf8')).toBe('{"old":true}\n');
  });
});

describe('--help', () => {
  it('shows duration defaults with their unit', () => {
    const swarm = elex('simulate', 'swarm', '--help').stdout;
    expect(swarm).toMatch(/--duration <d>[\s\S]*?\(default:\s+60s\)/);
    expect(swarm).toMatch(/--sync-interval <d>[\s\S]*?\(default:\s+60s\)/);
    const gossip = elex('simulate', 'gossip', '--help').stdout;
    expect(gossip).toMatch(/\(default:\s+10m\)/);
    expect(gossip).toMatch(/\(default:\s+2s\)/);
    expect(elex('simulate', 'raft', '--help').stdout).toMatch(/\(default:\s+3s\)/);
    expect(elex('simulate', 'basic', '--help').stdout).toMatch(/\(default:\s+1s\)/);
    expect(swarm).not.toMatch(/default: 60000/);
  });

  it('names the default scenario and lists the fault kinds', () => {
    expect(elex('simulate', '--help').stdout).toMatch(/default: swarm/);
    const basic = elex('simulate', 'basic', '--help').stdout;
    expect(basic).not.toMatch(/\(the default scenario\)/);
    expect(basic).toMatch(/--faults[\s\S]*partition-symmetric/);
  });
});

describe('progress on a terminal', () => {
  afterEach(() => vi.restoreAllMocks());

  it('does not hide the cursor (a Ctrl-C kills the synchronous run before it could be shown again)', () => {
    const written: string[] = [];
    const tty = Object.getOwnPropertyDescriptor(process.stderr, 'isTTY');
    Object.defineProperty(process.stderr, 'isTTY', { value: true, configurable: true });
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const bar = progress('test');
      bar.update(1, 10, 'x');
      bar.stop();
    } finally {
      if (tty) Object.defineProperty(process.stderr, 'isTTY', tty);
      else delete (process.stderr as { isTTY?: boolean }).isTTY;
    }
    expect(written.join('')).toMatch(/test/);
    expect(written.join('')).not.toContain('\x1b[?25l');
  });
});

describe('cluster keys', () => {
  it('cluster-key writes a key file once; node, coordinator and member refuse a bad one before binding', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-ckey-'));
    const key = join(dir, 'cluster.key');
    const w = elex('cluster-key', '--out', key);
    expect(w.code, w.stderr).toBe(0);
    expect(JSON.parse(w.stdout)).toEqual({ event: 'written', file: key });
    expect(readFileSync(key, 'utf8')).toMatch(/^[0-9a-f]{64}$/m);
    // Never overwritten, refused as the README says (E_EXISTS, as federation-keys; before session 24 E_KEY with
    // the raw EEXIST text).
    expectRefused(elex('cluster-key', '--out', key), /exists.*never overwritten.*\[E_EXISTS\]/);
    const bad = join(dir, 'bad.key');
    writeFileSync(bad, 'not a key\n');
    const cluster = ['--id', '1', '--cluster', '1=127.0.0.1:1', '--data-dir', join(dir, 'n1')];
    for (const cmd of ['node', 'coordinator']) {
      expectRefused(elex(cmd, ...cluster, '--cluster-key', bad), /line 1: expected 32 bytes.*\[E_KEY\]/);
      expectRefused(elex(cmd, ...cluster, '--cluster-key', join(dir, 'none')), /cannot read.*\[E_KEY\]/);
    }
    expectRefused(elex('member', '--listen', '127.0.0.1:1', '--cluster-key', bad), /\[E_KEY\]/);
  });

  it('node and coordinator exit on a busy --http port instead of running on without an API', async () => {
    const [raft, http] = await freePorts(2);
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(http, '127.0.0.1', () => r()));
    try {
      const dir = mkdtempSync(join(tmpdir(), 'elex-busy-'));
      for (const cmd of ['node', 'coordinator']) {
        const args = ['--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--data-dir', join(dir, cmd)];
        // It used to print the error and hang: its Raft node had started and was never closed.
        expectRefused(elex(cmd, ...args, '--http', `127.0.0.1:${http}`), /EADDRINUSE.*\[E_LISTEN\]/);
      }
    } finally {
      busy.close();
    }
  });
});

describe('elex before `npm ci`', () => {
  it('says to install the dependencies instead of printing a module-resolution stack trace', () => {
    // A copy of the launcher where no node_modules can be found above it: what a fresh checkout sees.
    const dir = mkdtempSync(join(tmpdir(), 'elex-bare-'));
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'elex.js'), readFileSync(ELEX));
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'elex.js'), '--help'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(/tsx.*npm ci/);
  });
});
