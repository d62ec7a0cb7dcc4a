import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killNaming, pidsNaming } from '../support/fake-elex.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) {
    killNaming(d);
    rmSync(d, { recursive: true, force: true });
  }
});

describe('elex cluster: its node processes do not outlive it', () => {
  it('SIGKILL of `elex cluster` mid-run leaves no `elex node` it started running (as the launcher does for its own child)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-cluster-orphans-'));
    dirs.push(dir);
    const cli = spawn(
      process.execPath,
      [
        ELEX,
        'cluster',
        '--nodes',
        '3',
        '--writes',
        '1000000',
        '--kills',
        '0',
        '--concurrency',
        '1',
        '--dir',
        dir,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    cli.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const until = Date.now() + 25_000;
    while (!err.includes('nodes up') && Date.now() < until) await sleep(100);
    expect(err).toContain('nodes up');
    const nodes = pidsNaming(join(dir, 'n'));
    expect(nodes.length).toBeGreaterThanOrEqual(3);
    cli.kill('SIGKILL');
    await sleep(2000);
    expect(pidsNaming(join(dir, 'n'))).toEqual([]);
  }, 30_000);
});
