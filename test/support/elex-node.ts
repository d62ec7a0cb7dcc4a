import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

export const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

/** Resolves once the child prints its `"ready"` line; rejects with its output if it exits first. */
export function whenReady(c: ChildProcess, name: string): Promise<void> {
  let err = '';
  c.stderr!.on('data', (b: Buffer) => {
    err += b.toString();
  });
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      if (out.includes('"ready"')) resolve();
    });
    c.once('exit', () => reject(new Error(`${name} exited before ready: ${out} ${err}`)));
  });
}

/**
 * Real `elex node` processes for one test file: a temporary directory under `prefix`, and every child
 * started through `track` or `startNode` SIGKILLed (and awaited) after the file's tests.
 */
export function elexNodes(prefix: string) {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const c of children)
      if (c.exitCode === null && c.signalCode === null) {
        const gone = new Promise((r) => c.once('exit', r));
        c.kill('SIGKILL');
        await gone;
      }
    rmSync(dir, { recursive: true, force: true });
  });
  const track = (c: ChildProcess): ChildProcess => {
    children.push(c);
    return c;
  };
  /** `elex node --id … --cluster … --http … --data-dir <dir>/n<id>`, resolved once ready. */
  const startNode = async (id: number, cluster: string, http: string): Promise<ChildProcess> => {
    const args = ['node', '--id', String(id), '--cluster', cluster, '--http', http];
    const c = track(
      spawn(process.execPath, [ELEX, ...args, '--data-dir', join(dir, `n${id}`)], {
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    await whenReady(c, `node ${id}`);
    return c;
  };
  return { dir, track, startNode };
}
