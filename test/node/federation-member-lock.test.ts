import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFederationKeys } from '../../src/node/federation-keys.js';
import { freePorts } from '../../src/node/processes.js';
import { waitUntil } from '../support/wait.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');
const procs: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function run(args: string[]) {
  const p = spawn(process.execPath, ['--max-semi-space-size=64', ELEX, 'federation-member', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(p);
  const out = { stdout: '', stderr: '', exit: null as number | null };
  p.stdout?.on('data', (c: Buffer) => {
    out.stdout += c.toString();
  });
  p.stderr?.on('data', (c: Buffer) => {
    out.stderr += c.toString();
  });
  p.on('exit', (code) => {
    out.exit = code ?? -1;
  });
  return out;
}

describe('elex federation-member: one data directory, one process', () => {
  it('a second process on a data directory in use (another --listen) is refused before it runs (E_LOCKED), as elex node is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-fed-lock-'));
    dirs.push(dir);
    const ids = ['m0', 'm1', 'm2'];
    writeFederationKeys(join(dir, 'keys'), ids);
    const ports = await freePorts(4);
    const list = ids.map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
    const args = [
      ...['--id', 'm0', '--members', list, '--key', join(dir, 'keys', 'm0.key')],
      ...['--keyring', join(dir, 'keys', 'keyring.json'), '--data-dir', join(dir, 'm0'), '--status', '200ms'],
    ];
    const first = run(args);
    await waitUntil(
      () => first.stdout.includes('"ready"'),
      10_000,
      () => first.stderr,
    );
    // Both would hold m0's vote: each answers vote requests from its own copy, and m0 could vote twice in a term.
    const second = run([...args, '--listen', `127.0.0.1:${ports[3]}`]);
    await waitUntil(
      () => second.exit !== null || second.stdout.includes('"ready"'),
      10_000,
      () => second.stderr,
    );
    expect({ ready: second.stdout.includes('"ready"'), stderr: second.stderr.trim() }).toMatchObject({
      ready: false,
      stderr: expect.stringContaining('E_LOCKED'),
    });
  }, 15_000);
});
