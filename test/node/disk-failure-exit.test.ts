/**
 * `elex node` whose data directory refuses a write (injected: RLIMIT_FSIZE with SIGXFSZ
 * ignored, so the append fails with EFBIG, as on a full disk). docs/node.md: "HostEnv = realHostEnv … fail →
 * stop (CLI: exit 70)"; README: "Errors become one line on stderr, never a stack trace".
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePorts } from '../../src/node/processes.js';
import { ELEX, elexNodes } from '../support/elex-node.js';

const { dir, track } = elexNodes('elex-review-admin-disk-');

describe('a data directory that refuses a write', () => {
  it('a node whose disk write fails exits 70 with a one-line reason, not an uncaught stack trace (exit 1)', async () => {
    const [raft, http] = await freePorts(2);
    const cmd =
      `trap '' XFSZ; ulimit -f 300; exec "${process.execPath}" "${ELEX}" node --id 1 ` +
      `--cluster 1=127.0.0.1:${raft} --http 127.0.0.1:${http} --data-dir "${join(dir, 'n1')}"`;
    const c = track(spawn('/bin/sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'] }));
    let err = '';
    c.stderr!.on('data', (b: Buffer) => {
      err += b.toString();
    });
    const exited = new Promise<number | null>((r) => c.once('exit', (code) => r(code)));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      c.stdout!.on('data', (b: Buffer) => {
        out += b.toString();
        if (out.includes('"ready"')) resolve();
      });
      c.once('exit', () => reject(new Error(`exited before ready: ${err}`)));
    });
    const value = 'a'.repeat(100_000);
    // Writes until the disk refuses one (a single voter elects itself first: retry while no leader).
    for (let i = 0, end = Date.now() + 10_000; c.exitCode === null && Date.now() < end; ) {
      const r = await fetch(`http://127.0.0.1:${http}/kv/k${i}`, { method: 'PUT', body: value }).catch(
        () => null,
      );
      if (r === null) break;
      if (r.status === 200) i++;
      else await new Promise((res) => setTimeout(res, 50));
    }
    const code = await exited;
    expect(err).toMatch(/EFBIG/);
    // Observed: exit 1 and "file-disk.ts:197 throw err; ^ ElexError: … append failed (EFBIG)\n    at storageError …".
    expect(err).not.toMatch(/\n\s+at /);
    expect(code).toBe(70);
  }, 30_000);
});
