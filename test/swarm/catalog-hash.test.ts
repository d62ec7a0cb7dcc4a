/**
 * docs/coordinator.md, "Snapshots": `restore` refuses (E_SNAPSHOT) a snapshot "taken over
 * another catalogue". The check compares `metadata.content_hash`, which `parseCatalog` takes on trust: it never
 * recomputes it from the features, so an edited catalog.json keeps the hash of the original.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATA_DIR } from '../../src/node/catalog-file.js';
import { CoordinatorStateMachine, encodeCommand, parseCatalog } from '../../src/swarm/index.js';

const read = (f: string): unknown => JSON.parse(readFileSync(join(DATA_DIR, f), 'utf8'));

interface RawFeature {
  id: string;
  conflicts: string[];
}

describe('a snapshot over another catalogue', () => {
  it('is refused when the other catalogue differs in a conflict pair (the content_hash is never verified)', () => {
    const A = 'FAJ_121_0486';
    const B = 'FAJ_121_4578';
    const original = parseCatalog(read('catalog.json'), 'catalog.json', read('safe-zones.json'), 'zones');
    expect(original.conflicts(A)).toContain(B);
    // The same file with the A ⟂ B pair removed (symmetrically): still valid, but another catalogue.
    const edited = read('catalog.json') as { features: RawFeature[] };
    for (const f of edited.features) {
      if (f.id === A) f.conflicts = f.conflicts.filter((c) => c !== B);
      if (f.id === B) f.conflicts = f.conflicts.filter((c) => c !== A);
    }
    const other = parseCatalog(edited, 'edited.json', read('safe-zones.json'), 'zones');
    expect(other.conflicts(A)).not.toContain(B);

    const there = new CoordinatorStateMachine(other);
    expect(there.apply(1, encodeCommand({ op: 'activate', feature: A, at_ms: 0 }))).toMatchObject({
      ok: true,
    });
    expect(there.apply(2, encodeCommand({ op: 'activate', feature: B, at_ms: 0 }))).toMatchObject({
      ok: true,
    });

    const here = new CoordinatorStateMachine(original);
    let refused: unknown;
    try {
      here.restore(there.snapshot(), 2);
    } catch (e) {
      refused = e;
    }
    expect(refused).toMatchObject({ code: 'E_SNAPSHOT' });
    // Restored anyway, this replica now holds two conflicting features active.
    expect(here.invariants()).toEqual([]);
    expect([original.contentHashVerified, other.contentHashVerified]).toEqual([true, false]);
  });

  it('a snapshot written before session 24 (naming the content_hash) still restores over the true catalogue', () => {
    const catalog = parseCatalog(read('catalog.json'), 'catalog.json', read('safe-zones.json'), 'zones');
    const a = new CoordinatorStateMachine(catalog);
    a.apply(1, encodeCommand({ op: 'activate', feature: 'FAJ_121_0486', at_ms: 0 }));
    const text = new TextDecoder().decode(a.snapshot());
    expect(text).toContain(catalog.fingerprint);
    const legacy = new TextEncoder().encode(text.replace(catalog.fingerprint, catalog.metadata.content_hash));
    const b = new CoordinatorStateMachine(catalog);
    b.restore(legacy, 1);
    expect(b.isActive('FAJ_121_0486')).toBe(true);
  });
});
