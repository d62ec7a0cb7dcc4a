import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(...args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A one-seed, 300-episode federation campaign on the random MDP (4 agents, 1 attacker): seconds, not minutes. */
function smallFederation(attack: string): string[] {
  return [
    ...['simulate', 'federation', '--mdp', 'random', '--agents', '4', '--byzantine', '1', '--attack', attack],
    ...['--rule', 'trimmed-mean', '--seeds', '1', '--episodes', '300', '--quiet'],
  ];
}

describe('the elex CLI (spawned for real)', () => {
  it('--version prints the package version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));
    const r = elex('--version');
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('--help lists the commands', () => {
    const r = elex('--help');
    expect(r.code).toBe(0);
    for (const c of ['simulate', 'bench', 'catalog']) expect(r.stdout).toContain(c);
  });

  it('every subcommand has --help', () => {
    for (const args of [['simulate'], ['simulate', 'basic'], ['bench'], ['bench', 'sim'], ['catalog']]) {
      const r = elex(...args, '--help');
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: elex/);
    }
  });

  it('bad arguments exit non-zero with a one-line reason', () => {
    const r = elex('simulate', 'basic', '--seed', 'banana');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/expected an integer, got 'banana'/);
    const u = elex('frobnicate');
    expect(u.code).not.toBe(0);
    expect(u.stderr).toMatch(/unknown command/);
    const f = elex('simulate', 'basic', '--faults', 'meteor', '--duration', '1s', '--nodes', '3');
    expect(f.code).toBe(1);
    expect(f.stderr.trim().split('\n').at(-1)).toMatch(/unknown fault kind 'meteor'.*\[E_CONFIG\]/);
  });

  it('simulate --json prints one JSON report with perf kept apart, deterministic across processes', () => {
    const args = ['simulate', 'basic', '--nodes', '20', '--duration', '5s', '--seed', '3', '--json'];
    const a = elex(...args);
    const b = elex(...args);
    expect(a.code).toBe(0);
    const ra = JSON.parse(a.stdout);
    const rb = JSON.parse(b.stdout);
    expect(ra.perf.wall_ms).toBeGreaterThanOrEqual(0);
    delete ra.perf;
    delete rb.perf;
    expect(JSON.stringify(ra)).toBe(JSON.stringify(rb));
    expect(ra.network.delivered).toBeGreaterThan(0);
    // progress goes to stderr, never into the JSON on stdout
    expect(a.stderr).toMatch(/simulate basic/);
  });

  it('simulate --out writes report.json and report.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-'));
    const r = elex('simulate', 'basic', '--nodes', '5', '--duration', '2s', '--out', dir);
    expect(r.code).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    expect(report.scenario).toBe('basic');
    expect(readFileSync(join(dir, 'report.html'), 'utf8')).toMatch(/<html|<!doctype html>/i);
  });

  it('bench sim --json prints events_per_s', () => {
    const r = elex('bench', 'sim', '--json', '--events', '200000', '--repeat', '1');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.events_per_s).toBeGreaterThan(0);
    expect(j.nodes).toBe(600);
  });

  it('bench auth --json prints seal and open rates per message size', () => {
    const r = elex('bench', 'auth', '--json', '--ms', '10', '--repeat', '1');
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.overhead_bytes).toBe(21);
    expect(j.sizes.map((s: { payload_bytes: number }) => s.payload_bytes)).toEqual([64, 1024, 307200]);
    for (const s of j.sizes) expect(Math.min(s.seal_per_s, s.open_per_s)).toBeGreaterThan(0);
  });
});

describe('the elex CLI in a pipeline', () => {
  it('exits quietly when stdout closes early (| head)', () => {
    const r = spawnSync('bash', ['-c', `"${process.execPath}" "${ELEX}" catalog --json | head -c 10`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.stdout.length).toBe(10);
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
  });
  it('simulate federation --shrink damps the aggregate (JSON says so, and the honest ρ changes)', () => {
    const small = smallFederation('none');
    const plain = elex(...small);
    const shrunk = elex(...small, '--shrink');
    expect(plain.code, plain.stderr).toBe(0);
    expect(shrunk.code, shrunk.stderr).toBe(0);
    const a = JSON.parse(plain.stdout);
    const b = JSON.parse(shrunk.stdout);
    expect(a.shrink).toBe(false);
    expect(b.shrink).toBe(true);
    expect(b.results[0].rho_mean).not.toBe(a.results[0].rho_mean);
  });
  it('simulate federation --polyak measures ρ on averaged tables; a rate outside (0, 1] is refused', () => {
    const small = smallFederation('none');
    const raw = elex(...small);
    const avg = elex(...small, '--polyak', '0.05');
    expect(avg.code, avg.stderr).toBe(0);
    const a = JSON.parse(raw.stdout);
    const b = JSON.parse(avg.stdout);
    expect(a.polyak).toBe(null);
    expect(b.polyak).toBe(0.05);
    expect(b.results[0].rho_mean).not.toBe(a.results[0].rho_mean);
    // The learning is the same run: only the measured table differs.
    expect(b.results[0].refused).toEqual(a.results[0].refused);
    const bad = elex(...small, '--polyak', '0');
    expect(bad.code).toBe(2); // a usage error
    expect(bad.stderr).toMatch(/--polyak.*expected/);
  });
  it('simulate federation --td-window / --td-slack set the evaluation’s reachability check (JSON says so); bad values are refused', () => {
    const small = smallFederation('stale-replay');
    const byDefault = JSON.parse(elex(...small).stdout);
    expect(byDefault.td_window).toBe(3);
    expect(byDefault.td_slack).toBe(0);
    const before = elex(...small, '--td-window', '1', '--td-slack', '1');
    expect(before.code, before.stderr).toBe(0);
    expect(JSON.parse(before.stdout)).toMatchObject({ td_window: 1, td_slack: 1 });
    const bad = elex(...small, '--td-slack', '-1');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--td-slack.*expected/);
    const badWindow = elex(...small, '--td-window', '0');
    expect(badWindow.code).toBe(2);
    expect(badWindow.stderr).toMatch(/--td-window.*expected/);
  });
});
