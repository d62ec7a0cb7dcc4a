/**
 * SIGTERM at a long-running command's ready line (session 24, from a review). Each printed its ready line and
 * only then installed its SIGINT/SIGTERM listeners, so a supervisor that stopped it at once killed it by the
 * signal's default action: no graceful leave, no agents saved, an exit by signal instead of 0. Now the
 * listeners come first (`untilStopSignal`).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

/** Starts `elex member`, sends SIGTERM the moment its ready line arrives, and reports how it ended. */
function termAtReady(): Promise<{ code: number | null; signal: string | null; left: boolean }> {
  // The young-generation flag up front: the launcher runs the command in this process, no wrapper between.
  const p = spawn(process.execPath, ['--max-semi-space-size=64', ELEX, 'member', '--listen', '127.0.0.1:0'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  let sent = false;
  p.stdout!.on('data', (c: Buffer) => {
    out += c.toString();
    if (!sent && out.includes('"ready"')) {
      sent = true;
      p.kill('SIGTERM');
    }
  });
  const t = setTimeout(() => p.kill('SIGKILL'), 15_000);
  return new Promise((resolve) =>
    p.once('exit', (code, signal) => {
      clearTimeout(t);
      resolve({ code, signal, left: out.includes('"left"') });
    }),
  );
}

describe('SIGTERM as soon as a command is ready', () => {
  it('elex member stops gracefully (leaves, exit 0) on a SIGTERM sent at its ready line', async () => {
    const runs: Array<{ code: number | null; signal: string | null; left: boolean }> = [];
    for (let i = 0; i < 6; i++) {
      const r = await termAtReady();
      runs.push(r);
      if (r.signal !== null) break;
    }
    // Before the fix about half the runs died of SIGTERM.
    expect(runs.filter((r) => r.signal !== null || !r.left || r.code !== 0)).toEqual([]);
  }, 25_000);
});
