/**
 * `bin/elex.js` re-runs itself in a child process (for a V8 start-up flag). A signal sent to the command's own
 * pid (`kill <pid>`, a supervisor's SIGTERM) must stop that child too, not leave it running as an orphan.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

/** Pids whose parent is `ppid` (from /proc: no `ps` needed). */
function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // Field 4 is the parent pid; field 2 (the command) is parenthesised and may hold spaces.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) === ppid) out.push(Number(name));
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.runIf(process.platform === 'linux')('elex and its child process', () => {
  it('SIGTERM to the command stops the child it runs in, and the command dies of SIGTERM', async () => {
    // An hour of swarm: far longer than the test, so only the signal can end it.
    const p = spawn(process.execPath, [ELEX, 'simulate', 'swarm', '--duration', '1h', '--json'], {
      stdio: 'ignore',
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      p.on('exit', (code, signal) => resolve({ code, signal })),
    );
    let kids: number[] = [];
    for (let i = 0; i < 100 && kids.length === 0; i++) {
      await sleep(100);
      kids = childrenOf(p.pid!);
    }
    expect(kids.length).toBe(1);
    p.kill('SIGTERM');
    const how = await exited;
    expect(how.signal).toBe('SIGTERM');
    for (let i = 0; i < 50 && alive(kids[0]); i++) await sleep(100);
    const orphan = alive(kids[0]);
    if (orphan) process.kill(kids[0], 'SIGKILL');
    expect(orphan).toBe(false);
  }, 30_000);
});
