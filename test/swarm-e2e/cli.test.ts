import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(...args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('elex simulate (swarm is the default scenario)', () => {
  it('--json prints the issue-6 report keys, --out writes report.json and report.html', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elex-swarm-'));
    const r = elex('simulate', '--duration', '8s', '--seed', '4', '--json', '--out', dir);
    expect(r.code, r.stderr).toBe(0);
    const rep = JSON.parse(r.stdout);
    expect(rep.scenario).toBe('swarm');
    expect(Array.isArray(rep.invariant_violations)).toBe(true);
    expect(Object.keys(rep.queries)).toEqual(
      expect.arrayContaining(['issued', 'answered', 'failed_by_reason', 'hung', 'latency_ms']),
    );
    expect(Object.keys(rep.queries.latency_ms).sort()).toEqual(['cross', 'intra']);
    expect(Object.keys(rep.queries.latency_ms.intra).sort()).toEqual(['p50', 'p99']);
    expect(Object.keys(rep.activations)).toEqual(expect.arrayContaining(['accepted', 'rejected_by_reason']));
    for (const k of ['learning', 'raft', 'gossip']) expect(rep[k]).toBeTypeOf('object');
    expect(Object.keys(rep.perf).sort()).toEqual(['sim_speedup', 'wall_ms']);
    const html = readFileSync(join(dir, 'report.html'), 'utf8');
    for (const t of ['leader', 'Commit latency', 'Membership', 'Query latency', 'Policy quality'])
      expect(html).toContain(t);
    expect(JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')).trace_hash).toBe(rep.trace_hash);
  });

  it('refuses a bad option with a one-line reason', () => {
    const r = elex('simulate', 'swarm', '--byzantine', '0.9');
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/byzantine|expected/);
  });
});
