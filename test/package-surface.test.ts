import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as pkg from '../src/index.js';

const ROOT = join(import.meta.dirname, '..');

/** The namespaces of the package entry point that hold `name` (as a value). */
function exportedBy(name: string): string[] {
  return Object.entries(pkg)
    .filter(([, ns]) => name in (ns as object))
    .map(([k]) => k);
}

describe("the README's Library API against the package entry point ('elex-swarm')", () => {
  it('exports every value examples/library.ts (the README snippet) imports, so the snippet can be written against the package', () => {
    const src = readFileSync(join(ROOT, 'examples', 'library.ts'), 'utf8');
    const missing: string[] = [];
    for (const m of src.matchAll(/import\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      for (const raw of m[1].split(',')) {
        const name = raw.trim();
        if (name === '' || name.startsWith('type ')) continue;
        if (exportedBy(name).length === 0) missing.push(`${name} (from ${m[2]})`);
      }
    }
    // Observed: defaultCatalog (src/node/catalog-file.ts) is not in the node namespace, and package.json's
    // "exports" has only ".", so a package user cannot reach it (nor loadCatalog) at all.
    expect(missing).toEqual([]);
  });

  it("exports simHostEnv, the simulator's HostEnv the Library API names for driving a RaftHost", () => {
    expect(exportedBy('simHostEnv')).not.toEqual([]);
  });
});
