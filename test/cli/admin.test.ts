/** `elex admin` against a real keyed `elex node`: signed with the key file it is accepted, unsigned refused. */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/node/processes.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');
const dir = mkdtempSync(join(tmpdir(), 'elex-admin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const run = promisify(execFile);

/** exit code, stdout, stderr of one `elex` command (never throws on a non-zero exit). */
async function elex(...args: string[]) {
  try {
    const r = await run(process.execPath, [ELEX, ...args], { timeout: 30_000 });
    return { code: 0, out: r.stdout, err: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, out: x.stdout, err: x.stderr };
  }
}

describe('elex admin', () => {
  it('signs with --cluster-key; a keyed node refuses the unsigned request and the wrong key', async () => {
    const key = join(dir, 'cluster.key');
    const other = join(dir, 'other.key');
    expect((await elex('cluster-key', '--out', key)).code).toBe(0);
    expect((await elex('cluster-key', '--out', other)).code).toBe(0);
    const [raft, http, spare] = await freePorts(3);
    const at = `127.0.0.1:${http}`;
    const node = spawn(
      process.execPath,
      [
        ELEX,
        'node',
        '--id',
        '1',
        // Node 2 has an address (a node without one is refused) but is no voter: add-learner adds it.
        '--cluster',
        `1=127.0.0.1:${raft},2=127.0.0.1:${spare}`,
        '--voters',
        '1',
        '--http',
        at,
        '--data-dir',
        join(dir, 'n1'),
        '--cluster-key',
        key,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        node.stdout!.on('data', (c: Buffer) => {
          out += c.toString();
          if (out.includes('"ready"')) resolve();
        });
        node.on('exit', () => reject(new Error(`node exited: ${out}`)));
      });
      const unsigned = await elex('admin', 'add-learner', '2', '--at', at);
      expect(unsigned.code).toBe(1);
      expect(unsigned.err).toMatch(/HTTP 401.*sign the request.*\[E_AUTH\]/);
      const wrong = await elex('admin', 'add-learner', '2', '--at', at, '--cluster-key', other);
      expect(wrong.err).toMatch(/a key this keyring does not hold.*\[E_AUTH\]/);
      // A single voter elects itself within its election timeout; retry until it leads.
      let signed = await elex('admin', 'add-learner', '2', '--at', at, '--cluster-key', key);
      for (let i = 0; i < 50 && signed.code !== 0 && /E_NO_LEADER|E_NOT_LEADER/.test(signed.err); i++) {
        await new Promise((r) => setTimeout(r, 100));
        signed = await elex('admin', 'add-learner', '2', '--at', at, '--cluster-key', key);
      }
      expect(signed.err).toBe('');
      expect(JSON.parse(signed.out)).toEqual({ voters: [1], learners: [2] });
      const bad = await elex('admin', 'remove', 'x', '--at', at);
      expect([bad.code, bad.err]).toEqual([1, expect.stringMatching(/node id.*\[E_CONFIG\]/)]);
    } finally {
      if (node.exitCode === null && node.signalCode === null) {
        const exited = new Promise((r) => node.once('exit', r));
        node.kill('SIGTERM');
        await exited;
      }
    }
  }, 60_000);
});
