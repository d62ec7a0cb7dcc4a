import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

/** Runs one of scripts/*.ts as the README does (`npx tsx scripts/…`), from the repository. */
function script(name: string, ...args: string[]) {
  const r = spawnSync(
    process.execPath,
    ['--import', import.meta.resolve('tsx'), join(ROOT, 'scripts', name), ...args],
    {
      encoding: 'utf8',
      timeout: 30_000,
      cwd: ROOT,
    },
  );
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

// Each figure script's own arguments, kept tiny so that a script that ignores --help ends quickly.
const SMALL: Record<string, string[]> = {
  'federation-convergence.ts': ['--seeds', '1'],
  'federation-reward-flip.ts': ['--seeds', '1'],
  'scan-federation-election.ts': ['--seeds', '1', '--byzantine-seeds', '1'],
  'federation-worst-seed.ts': ['--seeds', '1', '--draws', '10'],
};

describe('scripts/*.ts: --help', () => {
  it.each(Object.keys(SMALL))('%s --help prints its usage and runs nothing', (name) => {
    const r = script(name, '--help', ...SMALL[name]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage/i);
    // It ran the scan instead: the JSON result on stdout.
    expect(r.stdout.trim().startsWith('{')).toBe(false);
  });

  it('build-catalog.ts --help prints its usage and exits 0 (it was refused as an unknown argument)', () => {
    const r = script('build-catalog.ts', '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/usage: build-catalog/);
  });
});

describe('scripts/*.ts: bad arguments are refused in one line, without a stack trace', () => {
  it.each([
    ['federation-convergence.ts', ['--seeds']],
    ['federation-reward-flip.ts', ['--seeds', '0']],
    ['scan-federation-election.ts', ['--bound-ms', 'soon']],
    ['federation-worst-seed.ts', ['--mdp', 'nope']],
    ['failover-learning.ts', ['--ratings', '0']],
  ] as const)('%s %j: one line naming the option, exit 2, no stack trace', (name, args) => {
    const r = script(name, ...args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain(args[0]);
  });

  it('federation-table.ts --seeds 0 fails as its header promises: "one line on stderr, exit status 2 (no stack trace)"', () => {
    const r = script('federation-table.ts', '--seeds', '0', '--render');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.trim()).toBe('federation-table: --seeds needs a positive integer');
  });

  it.each(Object.keys(SMALL))('%s refuses an unknown argument instead of running without it', (name) => {
    // `--seed` for `--seeds`, `--seeds=1`: a typo silently runs the default (minutes) instead.
    const r = script(name, ...SMALL[name], '--bogus');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('--bogus');
  });

  it('federation-table.ts refuses --seeds=3 instead of silently using 10 seeds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-args-table-'));
    dirs.push(dir);
    const r = script('federation-table.ts', '--seeds=3', '--render', '--dir', dir);
    expect(r.code).toBe(2);
    // Before: "--render: 12 reports missing under …, first …-s10-r1-robust.json" (it ignored --seeds=3).
    expect(r.stderr).toContain('--seeds=3');
  });

  it('build-catalog.ts --out DIR that does not exist is refused in one line, not a stack trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-args-catalog-'));
    dirs.push(dir);
    const r = script('build-catalog.ts', '--out', join(dir, 'missing', 'data'));
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^build-catalog: .*missing/);
  });
});
