import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildCatalog,
  contentHash,
  DEFAULT_FROM,
  readUpstream,
  renderFiles,
} from '../../scripts/build-catalog.js';
import { ElexError } from '../../src/core/index.js';
import { DATA_DIR, loadCatalog } from '../../src/node/catalog-file.js';
import { CATEGORIES, findCycle, parseCatalog } from '../../src/swarm/index.js';

const catalog = loadCatalog();
const rawCatalog = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(DATA_DIR, 'catalog.json'), 'utf8'));
const rawZones = (): Record<string, unknown> =>
  JSON.parse(readFileSync(join(DATA_DIR, 'safe-zones.json'), 'utf8'));

function refusal(f: () => unknown): ElexError {
  try {
    f();
  } catch (e) {
    if (e instanceof ElexError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('the catalogue (data/catalog.json)', () => {
  it('has 593 features in exactly the 14 categories of DESIGN §7', () => {
    expect(catalog.features).toHaveLength(593);
    expect(catalog.categories.map((c) => c.coordinator)).toEqual([
      'coord-ca',
      'coord-rrm',
      'coord-nr',
      'coord-transport',
      'coord-mimo',
      'coord-mobility',
      'coord-energy',
      'coord-coverage',
      'coord-voice',
      'coord-ue',
      'coord-qos',
      'coord-interference',
      'coord-timing',
      'coord-security',
    ]);
  });

  it('puts every feature in exactly one category, the one its record names', () => {
    const seen = new Map<string, string>();
    for (const c of catalog.categories) {
      for (const id of c.features) {
        expect(seen.has(id), id).toBe(false);
        seen.set(id, c.id);
        expect(catalog.get(id)!.category).toBe(c.id);
      }
    }
    expect(seen.size).toBe(593);
    expect(catalog.categories.reduce((n, c) => n + c.features.length, 0)).toBe(593);
  });

  it('maps Positioning into Timing & Sync and leaves no Other behind', () => {
    const positioning = catalog.features.filter((f) => f.upstream_category === 'Positioning');
    expect(positioning).toHaveLength(6);
    for (const f of positioning) expect(f.category).toBe('timing');
    const others = catalog.features.filter((f) => f.upstream_category === 'Other');
    expect(others).toHaveLength(84);
    for (const f of others) expect(['neighbours', 'fallback']).toContain(f.category_rule);
    expect(catalog.metadata.other_mapping).toHaveLength(84);
  });

  it('maps an Other feature to the category most of its neighbours belong to', () => {
    const mapped = catalog.metadata.other_mapping.filter((m) => m.rule === 'neighbours');
    expect(mapped.length).toBeGreaterThan(0);
    for (const m of mapped) {
      const best = Math.max(...Object.values(m.votes));
      expect(m.votes[m.category], m.feature).toBe(best);
    }
    // TM7 Mode Switching is upstream "Other"; its neighbours are MIMO features.
    const tms = catalog.get('FAJ_121_3010')!;
    expect(tms.upstream_category).toBe('Other');
    expect(tms.category).toBe('mimo');
  });

  it('has requires forming a DAG and activation orders that respect every prerequisite', () => {
    const requires = new Map(catalog.features.map((f) => [f.id, f.requires]));
    expect(findCycle(requires)).toBeUndefined();
    let deepest = 0;
    for (const f of catalog.features) {
      const order = f.activation_order;
      expect(order[order.length - 1]).toBe(f.id);
      expect(new Set(order).size).toBe(order.length);
      const at = new Map(order.map((id, i) => [id, i]));
      for (const id of order) {
        for (const p of catalog.get(id)!.requires) {
          expect(at.has(p), `${f.id}: ${id} needs ${p}`).toBe(true);
          expect(at.get(p)!).toBeLessThan(at.get(id)!);
        }
      }
      deepest = Math.max(deepest, order.length);
    }
    expect(deepest).toBeGreaterThan(5);
  });

  it('finds a cycle when there is one', () => {
    const g = new Map([
      ['a', ['b']],
      ['b', ['c']],
      ['c', ['a']],
      ['d', []],
    ]);
    expect(findCycle(g)).toEqual(['a', 'b', 'c', 'a']);
  });

  it('has symmetric conflicts', () => {
    let pairs = 0;
    for (const f of catalog.features) {
      for (const c of f.conflicts) {
        expect(catalog.get(c)!.conflicts, `${c} ⟂ ${f.id}`).toContain(f.id);
        pairs++;
      }
    }
    expect(pairs / 2).toBe(catalog.metadata.counts.conflict_pairs);
    expect(pairs).toBeGreaterThan(0);
  });

  it('lists every dropped edge with its feature and kind, and keeps none of them', () => {
    const dropped = catalog.metadata.dropped_edges;
    expect(dropped.length).toBe(catalog.metadata.counts.dropped_edges);
    expect(dropped.length).toBeGreaterThan(100);
    expect(new Set(dropped.map((d) => d.kind))).toEqual(new Set(['requires', 'conflicts_with', 'related']));
    for (const d of dropped) {
      if (d.reason === 'unknown_target') expect(catalog.get(d.target)).toBeUndefined();
      const f = catalog.get(d.feature)!;
      expect([...f.requires, ...f.conflicts, ...f.related]).not.toContain(d.target);
    }
    expect(catalog.metadata.dropped_targets).toHaveLength(51);
  });

  it('links safe zones by acronym (IFLB, MSM, ANR, CA, DRX parts) and marks the rest global', () => {
    const iflb = catalog.resolve('IFLB');
    expect(catalog.zonesFor(iflb.id).map((z) => z.parameter)).toContain('lbActivationThreshold');
    expect(catalog.zone('lbActivationThreshold')!.features).toContain('FAJ_121_3009');
    expect(catalog.zone('mimoSleepMode')!.features).toEqual(['FAJ_121_3094']);
    expect(catalog.zone('anrMode')!.features).toEqual(['FAJ_121_0497']);
    expect(catalog.zone('drxCycle')!.features).toContain(catalog.resolve('CM-DRX').id);
    expect(catalog.zone('mroMode')!.scope).toBe('global');
    expect(catalog.zone('ccoMode')!.scope).toBe('global');
    expect(catalog.zones).toHaveLength(79);
    expect(catalog.zones.filter((z) => z.scope === 'linked').length + catalog.globalZones.length).toBe(79);
    expect(catalog.appliesTo('mroMode', iflb.id)).toBe(true);
    expect(catalog.appliesTo('mimoSleepMode', iflb.id)).toBe(false);
    const global = catalog.globalZones[0].parameter;
    expect(catalog.appliesTo(global, iflb.id)).toBe(true);
    expect(catalog.appliesTo(global, 'FAJ_999_9999')).toBe(false);
  });

  it('looks features up by id, FAJ code, acronym and name, case-insensitively', () => {
    expect(catalog.get('FAJ_121_3094')!.acronym).toBe('MSM');
    expect(catalog.byFaj('FAJ 121 3094')!.id).toBe('FAJ_121_3094');
    expect(catalog.byFaj('faj_121_3094')!.id).toBe('FAJ_121_3094');
    expect(catalog.byAcronym('iflb').map((f) => f.id)).toEqual(['FAJ_121_3009']);
    expect(catalog.byName('inter-frequency LOAD balancing').map((f) => f.id)).toEqual(['FAJ_121_3009']);
    expect(catalog.resolve('mimo sleep mode').id).toBe('FAJ_121_3094');
    expect(refusal(() => catalog.resolve('NOPE')).code).toBe('E_UNKNOWN_FEATURE');
    expect(refusal(() => catalog.resolve('XC')).code).toBe('E_AMBIGUOUS_FEATURE');
    expect(catalog.featuresIn('timing')).toHaveLength(catalog.category('timing')!.features.length);
    expect(catalog.prerequisites('FAJ_121_3009')).toEqual(['FAJ_121_0797', 'FAJ_121_0877']);
    expect(catalog.dependents('FAJ_121_0877')).toContain('FAJ_121_3009');
  });

  it('finds feature references in free text', () => {
    const refs = catalog.findReferences(
      'Can I enable IFLB together with FAJ 121 3094, FAJ_121_0497 and NR Micro Sleep Tx? Also CM-DRX, to be sure.',
    );
    expect(refs.map((r) => [r.feature, r.kind])).toEqual([
      ['FAJ_121_3009', 'acronym'],
      ['FAJ_121_3094', 'faj'],
      ['FAJ_121_0497', 'id'],
      ['FAJ_121_4900', 'name'],
      ['FAJ_121_4963', 'acronym'],
    ]);
    // "Micro Sleep Tx" inside "NR Micro Sleep Tx" is not a second reference; "I" and "to" are not acronyms.
    expect(refs.some((r) => r.feature === 'FAJ_121_3089')).toBe(false);
    expect(catalog.findReferences('what is carrier aggregation?').map((r) => r.feature)).toEqual([
      'FAJ_121_3046',
    ]);
    expect(catalog.findReferences('nothing here, just less words')).toEqual([]);
    expect(catalog.findReferences('FAJ 121 9999 is not ours')).toEqual([]);
  });
});

describe('loading refuses a broken file with its path and the reason', () => {
  function writeDir(cat: unknown, zones: unknown): string {
    const dir = mkdtempSync(join(tmpdir(), 'elex-cat-'));
    writeFileSync(join(dir, 'catalog.json'), typeof cat === 'string' ? cat : JSON.stringify(cat));
    writeFileSync(join(dir, 'safe-zones.json'), JSON.stringify(zones));
    return dir;
  }

  it('refuses invalid JSON', () => {
    const dir = writeDir('{"format": ', rawZones());
    const e = refusal(() => loadCatalog(dir));
    expect(e.code).toBe('E_CATALOG');
    expect(e.message).toContain(join(dir, 'catalog.json'));
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('refuses a missing file', () => {
    const e = refusal(() => loadCatalog(join(tmpdir(), 'no-such-elex-dir')));
    expect(e.message).toMatch(/catalog\.json: cannot read/);
  });

  it('refuses a schema violation, naming the field', () => {
    const cat = rawCatalog();
    (cat.features as Array<Record<string, unknown>>)[3].license_required = 'yes';
    const e = refusal(() => loadCatalog(writeDir(cat, rawZones())));
    expect(e.message).toContain('catalog.json');
    expect(e.message).toMatch(/features\.3\.license_required/);
  });

  it('refuses an asymmetric conflict, a dangling edge and a cycle', () => {
    const f = (cat: Record<string, unknown>, id: string) =>
      (
        cat.features as Array<{ id: string; requires: string[]; conflicts: string[]; related: string[] }>
      ).find((x) => x.id === id)!;
    const a = rawCatalog();
    f(a, 'FAJ_121_3009').conflicts = [];
    expect(refusal(() => parseCatalog(a, 'a.json', rawZones(), 'z.json')).message).toMatch(
      /^a\.json: conflict .* not symmetric/,
    );
    const b = rawCatalog();
    f(b, 'FAJ_121_3009').related.push('FAJ_121_9999');
    expect(refusal(() => parseCatalog(b, 'b.json', rawZones(), 'z.json')).message).toMatch(
      /unknown feature FAJ_121_9999/,
    );
    const c = rawCatalog();
    f(c, 'FAJ_121_0797').requires = ['FAJ_121_3009'];
    expect(refusal(() => parseCatalog(c, 'c.json', rawZones(), 'z.json')).message).toMatch(
      /requires has a cycle/,
    );
  });

  it('refuses an invalid safe zone in safe-zones.json', () => {
    const z = rawZones();
    const zone = (z.zones as Array<Record<string, number>>)[0];
    zone.safe_min = zone.absolute_max + 1;
    const e = refusal(() => parseCatalog(rawCatalog(), 'c.json', z, 'zones.json'));
    expect(e.message).toMatch(/^zones\.json: safe zone lbActivationThreshold: /);
  });
});

describe('data/*.json is what scripts/build-catalog.ts makes', () => {
  const committed = {
    'catalog.json': readFileSync(join(DATA_DIR, 'catalog.json'), 'utf8'),
    'safe-zones.json': readFileSync(join(DATA_DIR, 'safe-zones.json'), 'utf8'),
  };

  it('matches its own content hash (no hand edits)', () => {
    const c = JSON.parse(committed['catalog.json']);
    expect(contentHash(c.categories, c.features)).toBe(c.metadata.content_hash);
  });

  it('is byte-identical to a fresh build from ../shared/upstream-data (or its recorded inputs)', () => {
    const c = JSON.parse(committed['catalog.json']);
    if (!existsSync(DEFAULT_FROM)) {
      // Without the upstream folder beside the clone, at least the recorded inputs must be the three files.
      expect(c.metadata.inputs.map((i: { file: string }) => i.file)).toEqual([
        'elex-features-593.json',
        'elex-safe-zones.json',
        'elex-feature-parameters.json',
      ]);
      return;
    }
    const input = readUpstream(DEFAULT_FROM);
    expect(c.metadata.inputs).toEqual(input.hashes);
    const fresh = renderFiles(buildCatalog(input));
    expect(fresh['catalog.json'] === committed['catalog.json']).toBe(true);
    expect(fresh['safe-zones.json'] === committed['safe-zones.json']).toBe(true);
  });

  it('the script runs and reports the files up to date', () => {
    if (!existsSync(DEFAULT_FROM)) {
      expect(CATEGORIES).toHaveLength(14);
      return;
    }
    const script = join(import.meta.dirname, '..', '..', 'scripts', 'build-catalog.ts');
    const r = spawnSync(process.execPath, ['--import', 'tsx', script, '--check'], { encoding: 'utf8' });
    expect(r.stderr).toMatch(/593 features in 14 categories.*up to date/);
    expect(r.status).toBe(0);
  });
});
