import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');

function elex(...args: string[]) {
  const r = spawnSync(process.execPath, [ELEX, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('elex catalog (spawned for real)', () => {
  it('prints a feature with category, coordinator, prerequisites in order, conflicts and safe zones', () => {
    const r = elex('catalog', 'IFLB');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Inter-Frequency Load Balancing \(IFLB\)/);
    expect(r.stdout).toMatch(/Radio Resource Management \[rrm\].*coord-rrm/);
    expect(r.stdout.indexOf('FAJ_121_0797')).toBeLessThan(r.stdout.indexOf('FAJ_121_0877'));
    expect(r.stdout).toMatch(/conflicts \(3\)/);
    expect(r.stdout).toMatch(/parameters\s+100/);
    expect(r.stdout).toMatch(/lbActivationThreshold\s+safe \[50, 90\]/);
  });

  it('--json prints the categories and the features', () => {
    const r = elex('catalog', '--json');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j)).toEqual(['categories', 'features']);
    expect(j.categories).toHaveLength(14);
    expect(Object.keys(j.categories[0])).toEqual(['id', 'name', 'features']);
    expect(j.features).toHaveLength(593);
    expect(Object.keys(j.features[0])).toEqual([
      'id',
      'acronym',
      'name',
      'category',
      'requires',
      'conflicts',
    ]);
  });

  it('X --json prints the full record; an unknown feature exits 1 with one line', () => {
    const r = elex('catalog', 'FAJ 121 3094', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ id: 'FAJ_121_3094', acronym: 'MSM', category: 'mimo' });
    const bad = elex('catalog', 'NOSUCH');
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/^elex: no feature .*NOSUCH.* \[E_UNKNOWN_FEATURE\]/);
  });
});
