/**
 * An unknown --mutation is a bad option value like an unknown --scenario, --attack or --rule: commander's usage
 * error, exit 2, with the pointer to --help (it was exit 1 as if the command had rejected it after parsing).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('simulate raft --mutation', () => {
  it('an unknown name is a usage error (exit 2), as an unknown --scenario is', () => {
    const scenario = elex(['simulate', 'raft', '--scenario', 'nope']);
    expect(scenario.code).toBe(2);
    const r = elex(['simulate', 'raft', '--mutation', 'nope']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^error: option '--mutation <name>' argument 'nope' is invalid\. .*stale-read/m);
    expect(r.stderr).toMatch(/run with --help/);
  });
});
