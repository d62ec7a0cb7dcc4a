import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../src/node/processes.js';
import { waitUntil } from '../support/wait.js';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');
const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) if (p.exitCode === null) p.kill('SIGKILL');
});

/** Starts `elex member …` and collects its JSON lines. */
function member(args: string[]) {
  const p = spawn(process.execPath, [ELEX, 'member', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(p);
  const lines: Array<Record<string, unknown>> = [];
  let buf = '';
  p.stdout!.on('data', (c: Buffer) => {
    buf += c.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(JSON.parse(buf.slice(0, i)) as Record<string, unknown>);
      buf = buf.slice(i + 1);
    }
  });
  return { p, lines };
}

const until = (cond: () => boolean, what: () => string) => waitUntil(cond, 30_000, what, 50);

describe('elex member: one gossip member on UDP', () => {
  it('two members find each other; on SIGTERM one leaves and the other sees it leave', async () => {
    const [pa, pb] = await freePorts(2);
    const a = member(['--listen', `127.0.0.1:${pa}`]);
    const b = member(['--listen', `127.0.0.1:${pb}`, '--join', `127.0.0.1:${pa}`]);
    const seen = () => `a printed ${JSON.stringify(a.lines)}; b printed ${JSON.stringify(b.lines)}`;
    // Each must know the other: a departure goes to the members the leaver knows (a seed it never heard
    // back from is not one of them).
    await until(
      () =>
        a.lines.some((l) => l.event === 'member' && l.name === `127.0.0.1:${pb}` && l.status === 'alive') &&
        b.lines.some((l) => l.event === 'member' && l.name === `127.0.0.1:${pa}` && l.status === 'alive'),
      seen,
    );
    expect(a.lines[0]).toMatchObject({ event: 'ready', name: `127.0.0.1:${pa}` });
    b.p.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => b.p.once('exit', (c) => r(c)));
    expect(code).toBe(0);
    expect(b.lines.at(-1)).toMatchObject({ event: 'left' });
    await until(
      () => a.lines.some((l) => l.event === 'member' && l.name === `127.0.0.1:${pb}` && l.status === 'left'),
      seen,
    );
  });

  it('refuses a malformed address with a one-line reason', () => {
    const r = spawnSync(process.execPath, [ELEX, 'member', '--listen', 'localhost'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/expected host:port/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
