import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalClusterReport } from '../../src/node/local-cluster.js';

// The run itself is replaced: this pins the verdict `elex cluster` draws from a report (its exit code).
const report: { current: LocalClusterReport | null } = { current: null };
vi.mock('../../src/node/local-cluster.js', () => ({
  runLocalCluster: async () => report.current,
}));

const { register } = await import('../../src/cli/node/cluster.js');

async function exitCodeOf(args: string[]): Promise<number> {
  const program = new Command().exitOverride();
  register(program);
  const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
  process.exitCode = 0;
  try {
    await program.parseAsync(['node', 'elex', 'cluster', ...args, '--quiet']);
    return Number(process.exitCode ?? 0);
  } finally {
    write.mockRestore();
    process.exitCode = 0;
  }
}

const base: LocalClusterReport = {
  nodes: 3,
  writes: 300,
  acked: 300,
  unacked: 0,
  lost_acked_writes: 0,
  reads_checked: 900,
  kills: [{ node: 1, leader: true, term: 1, at_op: 100, recovery_ms: 200 }],
  reconfigurations: [],
  write_latency_ms: { p50: 10, p99: 30 },
  workload_ms: 1000,
  acked_per_s: 300,
  elapsed_ms: 3000,
  final_status: [],
};

afterEach(() => {
  report.current = null;
});

describe('elex cluster (kv): the exit code', () => {
  it('exits 1 when no write at all was acknowledged (nothing was read back, so nothing was checked)', async () => {
    report.current = {
      ...base,
      acked: 0,
      unacked: 300,
      reads_checked: 0,
      kills: [{ ...base.kills[0], recovery_ms: null }],
    };
    expect(await exitCodeOf(['--writes', '300'])).toBe(1);
  });

  it('--reconfigure exits 1 when the voter removal it promises never happened', async () => {
    report.current = {
      ...base,
      reconfigurations: [{ type: 'add-voter', node: 4, at_op: 150, ok: true, ms: 1500 }],
    };
    expect(await exitCodeOf(['--writes', '300', '--reconfigure'])).toBe(1);
  });
});
