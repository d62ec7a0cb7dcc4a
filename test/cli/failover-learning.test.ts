import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join(import.meta.dirname, '..', '..', 'scripts', 'failover-learning.ts');

describe('scripts/failover-learning.ts (three real coordinators)', () => {
  it('ratings given while a coordinator is down reach its own agent once it is back, each once', () => {
    const r = spawnSync(
      process.execPath,
      ['--import', import.meta.resolve('tsx'), SCRIPT, '--ratings', '3'],
      {
        encoding: 'utf8',
        timeout: 120_000,
        cwd: tmpdir(),
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout) as {
      before_outage: { agent: string; confidence: number };
      during_outage: Array<{ agent: string; rating: number }>;
      primary_after: { learned: number; duplicates: number };
      standby_after: { returned: number; pending: number };
      after_return: { agent: string; confidence: number; standby: string[] };
    };
    // During the outage the standby agent answered and took every rating.
    expect(report.during_outage.every((d) => d.agent.startsWith('standby-agent-') && d.rating === 200)).toBe(
      true,
    );
    expect(report.standby_after).toMatchObject({ returned: 3, pending: 0 });
    expect(report.primary_after).toMatchObject({ learned: 3, duplicates: 0 });
    // The primary's own agent answers again, with the confidence three rated visits give (0.45 unrated).
    expect(report.after_return.agent).toBe(report.before_outage.agent);
    expect(report.after_return.standby).toEqual([]);
    expect(report.after_return.confidence).toBeGreaterThan(report.before_outage.confidence);
  });
});
