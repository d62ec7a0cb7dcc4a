import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { descendantsOf, orphaned, sleep } from './proc.js';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'federation-table.ts');

function table(...args: string[]) {
  // tsx resolved here, so the script runs from another directory (it must find bin/elex.js by itself).
  const r = spawnSync(process.execPath, ['--import', import.meta.resolve('tsx'), SCRIPT, ...args], {
    encoding: 'utf8',
    timeout: 300_000,
    cwd: tmpdir(),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('scripts/federation-table.ts (spawned for real, 1 seed of 20 episodes)', () => {
  it('runs the twelve campaigns, renders from the saved reports, and refuses a corrupt or missing one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-table-'));
    const quick = ['--seeds', '1', '--episodes', '20', '--dir', dir];
    const run = table(...quick);
    expect(run.code, run.stderr).toBe(0);
    expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toHaveLength(12);
    expect(run.stderr).toContain('12/12 campaigns');
    expect(run.stdout).toMatch(
      /\|\s+\| elex-query 10\/3 \| elex-query 20\/6 \| random 10\/3 .* frozen-lake 20\/6 \|/,
    );
    // 6 columns × (11 judged attacks × 2 + forged-origin's refusals + 3) + a speed-up per MDP.
    expect(run.stdout).toMatch(/\d+ of 159 criteria met\./);

    const json = table(...quick, '--render', '--json');
    expect(json.code, json.stderr).toBe(0);
    const v = JSON.parse(json.stdout) as { criteria: number; met: number; failures: string[] };
    expect(v.criteria).toBe(159);
    expect(v.met + v.failures.length).toBe(159);
    expect(run.stdout).toContain(`${v.met} of 159 criteria met.`);

    const one = join(dir, 'random-20-6-s1-r1-e20-plain.json');
    writeFileSync(one, '{"reports": []}');
    const corrupt = table(...quick, '--render');
    expect(corrupt.code).toBe(2);
    expect(corrupt.stderr).toContain(`${one}: not a campaign report`);

    rmSync(one);
    const missing = table(...quick, '--render');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('1 reports missing');
    rmSync(dir, { recursive: true, force: true });
  });

  it.runIf(process.platform === 'linux')(
    'SIGTERM to the script stops the campaigns it runs, and their children',
    async () => {
      // Before, the script died alone and its campaigns (each an elex with a child of its own) ran on.
      const dir = mkdtempSync(join(tmpdir(), 'elex-table-'));
      const p = spawn(
        process.execPath,
        ['--import', import.meta.resolve('tsx'), SCRIPT, '--seeds', '10', '--jobs', '2', '--dir', dir],
        { stdio: 'ignore', cwd: tmpdir() },
      );
      const exited = new Promise<NodeJS.Signals | null>((resolve) => p.on('exit', (_c, sig) => resolve(sig)));
      // Both campaigns started, each with its elex child: the script, 2 elex, 2 of theirs.
      let tree: number[] = [];
      for (let i = 0; i < 200 && tree.length < 4; i++) {
        await sleep(100);
        tree = descendantsOf(p.pid!);
      }
      expect(tree.length).toBeGreaterThanOrEqual(4);
      p.kill('SIGTERM');
      expect(await exited).toBe('SIGTERM');
      expect(await orphaned(tree)).toBe(false);
      // Nothing half-written is left as a report.
      expect(readdirSync(dir).filter((f) => f.endsWith('.json'))).toEqual([]);
      rmSync(dir, { recursive: true, force: true });
    },
    60_000,
  );

  it('--help explains the options', () => {
    const r = table('--help');
    expect(r.code).toBe(0);
    for (const o of ['--seeds', '--jobs', '--episodes', '--dir', '--fresh', '--render', '--json']) {
      expect(r.stdout).toContain(o);
    }
  });
});
