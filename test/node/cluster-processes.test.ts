import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocalCluster } from '../../src/node/local-cluster.js';
import { KillSchedule, LocalProcesses, type MemberStatus } from '../../src/node/processes.js';
import { killNaming, pidsNaming, writeFakeElex } from '../support/fake-elex.js';

const dirs: string[] = [];
function fakeBin(): { bin: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'elex-cluster-test-'));
  dirs.push(dir);
  const bin = writeFakeElex(dir);
  return { bin, dir: join(dir, 'cluster') };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  delete process.env.FAKE_MODE;
  delete process.env.FAKE_READY_MS;
  for (const d of dirs.splice(0)) {
    killNaming(d);
    rmSync(d, { recursive: true, force: true });
  }
});

describe('KillSchedule: the progress line and the report agree', () => {
  it('the stderr line names the same operation as kills[].at_op', async () => {
    let issued = 4;
    const members = [1, 2, 3].map((id) => ({
      id,
      raft: { host: '127.0.0.1', port: 1 },
      http: { host: '127.0.0.1', port: 2 },
      proc: null,
    }));
    const procs = {
      members,
      live: members,
      kill: () => {},
      // Other workers go on issuing operations while the killer asks who leads.
      waitForLeader: async (): Promise<MemberStatus> => {
        issued += 5;
        return { id: 1, role: 'leader', term: 3, leader: 1 };
      },
    } as unknown as LocalProcesses;
    const lines: string[] = [];
    const schedule = new KillSchedule(
      procs,
      9,
      1,
      (l) => lines.push(l),
      () => issued,
    );
    await schedule.before(3);
    expect(schedule.kills).toHaveLength(1);
    const line = lines.find((l) => l.startsWith('SIGKILL'))!;
    expect(line).toContain(`at operation ${schedule.kills[0].at_op}`);
  });
});

describe('LocalProcesses: a stop reaches every process it started', () => {
  it('stopEvery during start (a Ctrl-C while the processes come up) leaves none of them running', async () => {
    process.env.FAKE_READY_MS = '1500';
    const { bin, dir } = fakeBin();
    const starting = LocalProcesses.start('node', 3, bin, dir);
    starting.catch(() => {});
    const until = Date.now() + 10_000;
    while (pidsNaming(dir).length < 3 && Date.now() < until) await sleep(50);
    expect(pidsNaming(dir)).toHaveLength(3);
    // What `elex cluster` does on SIGINT/SIGTERM/SIGHUP, then it dies of the signal.
    await LocalProcesses.stopEvery();
    await sleep(2500);
    const left = pidsNaming(dir);
    await starting.then(
      (p) => p.stopAll(),
      () => {},
    );
    expect(left).toEqual([]);
  }, 30_000);
});

describe('runLocalCluster: a restart that fails', () => {
  it('fails the run with E_CLUSTER, without an unhandled rejection (which kills the CLI before its cleanup)', async () => {
    process.env.FAKE_MODE = 'fail-restart';
    const { bin, dir } = fakeBin();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const run = runLocalCluster({ nodes: 3, writes: 1500, concurrency: 1, dir, elexBin: bin, kills: 1 });
      await expect(run).rejects.toMatchObject({ code: 'E_CLUSTER' });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.map(String)).toEqual([]);
  }, 30_000);
});
