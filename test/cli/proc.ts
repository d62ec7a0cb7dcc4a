/** Process-tree helpers for the tests that check no child outlives its command (Linux: read from /proc). */
import { readdirSync, readFileSync } from 'node:fs';

/** Pids whose parent is `ppid` (from /proc: no `ps` needed). */
export function childrenOf(ppid: number): number[] {
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

/** Every descendant of `pid`, children first. */
export function descendantsOf(pid: number): number[] {
  const out: number[] = [];
  for (let next = childrenOf(pid); next.length > 0; ) {
    out.push(...next);
    next = next.flatMap(childrenOf);
  }
  return out;
}

export const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether any of `pids` outlived its parent by 5 s (orphans; killed here if so). */
export async function orphaned(pids: readonly number[]): Promise<boolean> {
  for (let i = 0; i < 50 && pids.some(alive); i++) await sleep(100);
  const left = pids.filter(alive);
  for (const pid of left) process.kill(pid, 'SIGKILL');
  return left.length > 0;
}
