import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(args: string[], timeout = 120_000) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('elex cluster: real processes, real sockets, real disks', () => {
  it('SIGKILLs the leader mid-workload, restarts it, and every acknowledged write reads back from every node', () => {
    const r = elex(['cluster', '--nodes', '3', '--writes', '90', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      acked: number;
      unacked: number;
      lost_acked_writes: number;
      reads_checked: number;
      kills: Array<{ node: number; leader: boolean; recovery_ms: number | null }>;
      final_status: Array<{
        role: string;
        term: number;
        authenticated: boolean;
        transport: { refused: Record<string, number> };
      } | null>;
    };
    expect(report.kills).toHaveLength(1);
    expect(report.kills[0].leader).toBe(true);
    expect(report.acked + report.unacked).toBe(90);
    // Writes go through KvClient, which retries the ones in flight at the kill in their sessions.
    expect(report.unacked).toBe(0);
    expect(report.reads_checked).toBe(3 * report.acked);
    expect(report.lost_acked_writes).toBe(0);
    expect(report.kills[0].recovery_ms).not.toBeNull();
    // The killed node came back: all three answer, one leader among them.
    expect(report.final_status.every((s) => s !== null)).toBe(true);
    expect(report.final_status.filter((s) => s!.role === 'leader')).toHaveLength(1);
    // The local cluster runs with a cluster key, and every member's frames verified at the others.
    for (const s of report.final_status) {
      expect(s!.authenticated).toBe(true);
      expect(s!.transport.refused.E_AUTH ?? 0).toBe(0);
    }
  });
});

describe('elex cluster --reconfigure: membership changes under load', () => {
  it('a spare joins as a voter and a voter leaves while writes and a leader SIGKILL go on; nothing acknowledged is lost', () => {
    const r = elex(['cluster', '--nodes', '3', '--writes', '200', '--reconfigure', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      acked: number;
      lost_acked_writes: number;
      reads_checked: number;
      reconfigurations: Array<{ type: string; node: number; ok: boolean }>;
      final_status: Array<{ id: number; voters: number[] } | null>;
    };
    expect(report.reconfigurations.map((c) => [c.type, c.ok])).toEqual([
      ['add-voter', true],
      ['remove', true],
    ]);
    const removed = report.reconfigurations[1].node;
    expect(report.lost_acked_writes).toBe(0);
    // Read back from the final configuration: the three remaining voters, the newcomer among them.
    expect(report.reads_checked).toBe(3 * report.acked);
    const voters = report.final_status.find((s) => s !== null && s.id === 4)!.voters;
    expect(voters).toContain(4);
    expect(voters).not.toContain(removed);
    expect(voters).toHaveLength(3);
  });
});

describe('elex cluster --app coordinator: the control plane in real processes', () => {
  it('activations and conflicting races through 5 coordinators, leader SIGKILLed: every invariant holds', () => {
    const r = elex([
      'cluster',
      '--app',
      'coordinator',
      '--nodes',
      '5',
      '--activations',
      '40',
      '--conflict-pairs',
      '8',
      '--queries',
      '12',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      commands: number;
      accepted: number;
      conflict_pairs: { issued: number; both_active: number };
      queries: { issued: number; ok: number; cross: number; stale: number };
      replicas_agree: boolean;
      violations: string[];
      kills: unknown[];
    };
    expect(report.violations).toEqual([]);
    expect(report.replicas_agree).toBe(true);
    expect(report.commands).toBe(40 + 2 * 8);
    expect(report.accepted).toBeGreaterThan(20);
    expect(report.conflict_pairs).toMatchObject({ issued: 8, both_active: 0 });
    // Queries through the coordinators, answered by the agents of the hosting coordinators.
    expect(report.queries).toMatchObject({ issued: 12, ok: 12, cross: 9, stale: 0 });
    expect(report.kills).toHaveLength(1);
    // Every coordinator answered its parts: no standby agent did.
    expect(report.queries).toMatchObject({ standby: 0, standby_answers: 0 });
  });

  it('--down and --stall: a follower SIGKILLed and one SIGSTOPped before the queries: standby agents answer, and the gossip failure detector spares waiting on the hung one', () => {
    const r = elex([
      'cluster',
      '--app',
      'coordinator',
      '--nodes',
      '5',
      '--activations',
      '20',
      '--conflict-pairs',
      '4',
      '--queries',
      '40',
      '--kills',
      '0',
      '--down',
      '1',
      '--stall',
      '1',
      '--quiet',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      queries: { issued: number; ok: number; standby: number; standby_answers: number; stale: number };
      failover: { parts: number; unanswered: number; remembered: number; suspected: number };
      gossip: boolean;
      detection_ms: Record<string, { first: number | null; all: number | null }>;
      down: number[];
      stalled: number[];
      violations: string[];
    };
    expect(report.violations).toEqual([]);
    expect([report.down.length, report.stalled.length, report.gossip]).toEqual([1, 1, true]);
    // The queries cover every coordinator's categories: the two taken down are answered by their standbys.
    expect(report.queries).toMatchObject({ issued: 40, ok: 40, stale: 0 });
    expect(report.queries.standby).toBeGreaterThan(0);
    expect(report.queries.standby_answers).toBeGreaterThanOrEqual(report.queries.standby);
    // Each standby part was either waited for (no answer), or not asked of its primary at all: remembered
    // down, or suspected by gossip once phi crossed 8 (a few seconds after the SIGSTOP, within the run).
    const f = report.failover;
    expect(f.parts).toBeGreaterThanOrEqual(report.queries.standby);
    expect(f.unanswered + f.remembered + f.suspected).toBe(f.parts);
    expect(f.suspected).toBeGreaterThan(0);
    expect(f.unanswered).toBeLessThan(f.parts);
    // Every coordinator the queries went through saw both suspect or dead (phi 8: seconds, not the 20 s limit).
    for (const id of [...report.down, ...report.stalled]) {
      const d = report.detection_ms[String(id)];
      expect(d.first).toBeGreaterThan(0);
      expect(d.all).toBeGreaterThanOrEqual(d.first!);
    }
  });
});

describe('elex node refuses bad input with a one-line reason', () => {
  const refused = (args: string[], reason: RegExp) => {
    const r = elex(['node', ...args], 20_000);
    expect(r.code, r.stderr).not.toBe(0);
    expect(r.code).not.toBe(null);
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).toMatch(reason);
  };
  it('an id outside the cluster, a malformed cluster list, a heartbeat not below the election timeout', () => {
    refused(['--id', '4', '--cluster', '1=127.0.0.1:7001,2=127.0.0.1:7002'], /--id 4 is not in --cluster/);
    refused(['--id', '1', '--cluster', '1=localhost'], /expected host:port/);
    const c = elex(['cluster', '--app', 'coordinator', '--writes', '5'], 20_000);
    expect(c.code).toBe(1);
    expect(c.stderr).toMatch(/--writes applies to --app kv only/);
    const k = elex(['cluster', '--conflict-pairs', '5'], 20_000);
    expect(k.stderr).toMatch(/--conflict-pairs applies to --app coordinator only/);
    const d = elex(['cluster', '--app', 'coordinator', '--nodes', '5', '--down', '3'], 20_000);
    expect([d.code, d.stderr]).toEqual([1, expect.stringMatching(/--down 3 .* a quorum of 3 of 5/)]);
    const s = elex(
      ['cluster', '--app', 'coordinator', '--nodes', '5', '--down', '1', '--stall', '2'],
      20_000,
    );
    expect([s.code, s.stderr]).toEqual([1, expect.stringMatching(/--stall 2 leave 2 .* a quorum of 3 of 5/)]);
    const g = elex(['cluster', '--no-gossip'], 20_000);
    expect([g.code, g.stderr]).toEqual([
      1,
      expect.stringMatching(/--no-gossip applies to --app coordinator only/),
    ]);
    const r = elex(['coordinator', '--id', '9', '--cluster', '1=127.0.0.1:7001'], 20_000);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--id 9 is not in --cluster/);
    refused(['--id', '1', '--cluster', '1=127.0.0.1:1,1=127.0.0.1:2'], /node 1 appears twice/);
    refused(
      ['--id', '1', '--cluster', '1=127.0.0.1:1', '--heartbeat', '200ms', '--election-timeout', '150ms'],
      /--heartbeat .* must be below --election-timeout/,
    );
  });
});
