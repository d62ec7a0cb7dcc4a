/**
 * Wall-clock durations end up in Node timers (setTimeout, setInterval, AbortSignal.timeout), which hold at most
 * 2^31 − 1 ms (about 24.8 days): a longer one fires after 1 ms, with a TimeoutOverflowWarning on stderr. Such
 * a duration must be refused as a bad option value (exit 2), before anything starts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/node/processes.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[]) {
  // 10 s: a command that accepted the duration starts serving and is killed (code null).
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 10_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** A usage error naming the option: exit 2, one `error:` line, nothing on stdout, no Node warning. */
function expectUsageError(r: ReturnType<typeof elex>, flag: string) {
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr).toMatch(new RegExp(`^error: option '${flag} <[a-z]+>' argument '1000h' is invalid`, 'm'));
  expect(r.stderr).toMatch(/at most 2147483647 ms/);
  expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
}

const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});
const scratch = () => {
  const d = mkdtempSync(join(tmpdir(), 'elex-review-timers-'));
  made.push(d);
  return d;
};

describe('wall-clock durations beyond a timer', () => {
  it('admin --timeout 1000h is refused (it gave up after 1 ms: "nothing within 3600000000 ms")', () => {
    expectUsageError(
      elex(['admin', 'transfer', '2', '--at', '127.0.0.1:1', '--timeout', '1000h']),
      '--timeout',
    );
  });

  it('coordinator --federation / --agents-save 1000h are refused before it starts (a round and a save every 1 ms)', async () => {
    const [raft, http] = await freePorts(2);
    const base = [
      'coordinator',
      '--id',
      '1',
      '--cluster',
      `1=127.0.0.1:${raft}`,
      '--http',
      `127.0.0.1:${http}`,
      '--data-dir',
      join(scratch(), 'c'),
    ];
    expectUsageError(elex([...base, '--federation', '1000h']), '--federation');
    expectUsageError(elex([...base, '--agents-save', '1000h']), '--agents-save');
  });

  it('federation-member --status / --sync 1000h are refused (a status line every 1 ms)', () => {
    const d = scratch();
    const base = [
      'federation-member',
      '--id',
      'm0',
      '--members',
      'm0=127.0.0.1:1',
      '--key',
      join(d, 'm0.key'),
      '--keyring',
      join(d, 'keyring.json'),
      '--data-dir',
      join(d, 'm0'),
    ];
    expectUsageError(elex([...base, '--status', '1000h']), '--status');
    expectUsageError(elex([...base, '--sync', '1000h']), '--sync');
  });

  it('federation-cluster --duration / --sync 1000h are refused before any member starts', () => {
    expectUsageError(elex(['federation-cluster', '--quiet', '--duration', '1000h']), '--duration');
    expectUsageError(elex(['federation-cluster', '--quiet', '--sync', '1000h']), '--sync');
  });

  it('node and coordinator --help give their duration defaults with a unit', () => {
    const node = elex(['node', '--help']).stdout.replace(/\s+/g, ' ');
    expect(node).toMatch(/--election-timeout <d> .*\(default: 150ms\)/);
    expect(node).toMatch(/--heartbeat <d> .*\(default: 50ms\)/);
    const coord = elex(['coordinator', '--help']).stdout.replace(/\s+/g, ' ');
    expect(coord).toMatch(/--federation <d> .*\(default: 10s\)/);
    expect(coord).toMatch(/--agents-save <d> .*\(default: 10s\)/);
  });
});
