/**
 * `elex simulate raft`: an option the chosen mode does not use is refused, not silently ignored (the flapping
 * scenario already refuses the campaign's options; the campaign did not refuse the flapping scenario's, nor
 * a replay the options it overrides). Each refusal comes before any run: a hang shows as `code: null`.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function expectRefused(r: ReturnType<typeof elex>, reason: RegExp) {
  expect(r.code, r.stderr).not.toBe(null);
  expect(r.code, r.stdout).not.toBe(0);
  expect(r.stdout).toBe('');
  expect(r.stderr, 'a JavaScript stack trace').not.toMatch(/^\s+at /m);
  expect(r.stderr).toMatch(reason);
}

const tiny = ['simulate', 'raft', '--duration', '100ms', '--quiet'];

describe('simulate raft refuses options its mode ignores', () => {
  it('--no-pre-vote on the campaign (it only applies to --scenario flapping; the campaign ran with PreVote)', () => {
    expectRefused(
      elex([...tiny, '--runs', '1', '--no-pre-vote']),
      /^elex: .*--no-pre-vote.*flapping.*\[E_USAGE\]$/m,
    );
  });

  it('--runs with --run-seed (the replay runs one run whatever --runs says)', () => {
    expectRefused(
      elex([...tiny, '--runs', '50', '--run-seed', '5']),
      /^elex: .*--runs.*--run-seed.*\[E_USAGE\]$/m,
    );
  });

  it('--seed with --run-seed (the root seed is not used, yet the report named it as the seed)', () => {
    expectRefused(
      elex([...tiny, '--seed', '7', '--run-seed', '5']),
      /^elex: .*--seed.*--run-seed.*\[E_USAGE\]$/m,
    );
  });

  it('still replays a run with --run-seed alone, and runs the campaign without --no-pre-vote', () => {
    const r = elex([...tiny, '--run-seed', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).runs).toBe(1);
  });
});
