import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

describe('examples/library.ts (the README library API)', () => {
  it('runs and shows each part working', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'examples', 'library.ts')], {
      encoding: 'utf8',
      cwd: ROOT,
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^simulator [0-9a-f]{14} .*partition: 1/m);
    expect(r.stdout).toMatch(/activate IFLB \{"ok":true.*"FAJ_121_0797","FAJ_121_0877","FAJ_121_3009"/);
    expect(r.stdout).toMatch(/federatedSync \{"updates_sent":[1-9]/);
    const learned = Number(/agent-2 learned q = (-?[\d.]+)/.exec(r.stdout)?.[1]);
    expect(learned).toBeGreaterThan(0.1);
  });
});
