import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * DESIGN §3: imports run downward only, `cli → sim | node → swarm → raft | gossip | learning → core`, and
 * nothing imports `cli`, `sim` or `node`. Each folder lists the folders it may import from.
 */
const ALLOWED: Record<string, string[]> = {
  core: [],
  raft: ['core'],
  gossip: ['core'],
  learning: ['core'],
  swarm: ['core', 'raft', 'gossip', 'learning'],
  sim: ['core', 'raft', 'gossip', 'learning', 'swarm'],
  node: ['core', 'raft', 'gossip', 'learning', 'swarm'],
  cli: ['core', 'raft', 'gossip', 'learning', 'swarm', 'sim', 'node'],
};

const SRC = join(import.meta.dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top-level folders of src/ that `file` imports from (relative imports only). */
function importedLayers(file: string, code = readFileSync(file, 'utf8')): string[] {
  const out: string[] = [];
  for (const m of code.matchAll(
    /(?:import|export)[^'"]*?from\s+['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g,
  )) {
    const target = relative(SRC, resolve(file, '..', m[1] ?? m[2]));
    if (!target.startsWith('..')) out.push(target.split(/[\\/]/)[0]);
  }
  return out;
}

describe('layers', () => {
  it('the checker sees static, re-exported and dynamic imports across folders', () => {
    const file = join(SRC, 'raft', 'x.ts');
    const code =
      "import { a } from '../sim/simulator.js';\nexport { b } from './log.js';\nconst c = await import('../node/kv-node.js');";
    expect(importedLayers(file, code)).toEqual(['sim', 'raft', 'node']);
  });

  for (const [layer, allowed] of Object.entries(ALLOWED)) {
    it(`src/${layer} imports only from ${allowed.length ? allowed.join(', ') : 'itself'}`, () => {
      const bad = files(join(SRC, layer)).flatMap((f) =>
        importedLayers(f)
          .filter((l) => l !== layer && !allowed.includes(l))
          .map((l) => `${relative(SRC, f)} imports src/${l}`),
      );
      expect(bad).toEqual([]);
    });
  }

  it('every folder of src/ has a rule', () => {
    const dirs = readdirSync(SRC).filter((n) => statSync(join(SRC, n)).isDirectory());
    expect(dirs.sort()).toEqual(Object.keys(ALLOWED).sort());
  });
});
