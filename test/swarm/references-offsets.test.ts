import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/node/catalog-file.js';
import { type FeatureReference, ReferenceFinder } from '../../src/swarm/references.js';

const catalog = loadCatalog();

/** What a reference's reported span must be: the feature's id, FAJ code, acronym or name as written. */
function spanNames(r: FeatureReference): boolean {
  const f = catalog.get(r.feature)!;
  const span = r.match;
  switch (r.kind) {
    case 'id':
    case 'faj':
      return span.toUpperCase().replace(/[ _]/g, '') === f.id.replace(/_/g, '');
    case 'acronym':
      return span === f.acronym || f.acronym.split('-').includes(span);
    case 'name':
      return span.toLowerCase() === f.name.toLowerCase();
  }
}

describe('findReferences offsets refer to the original text (characters whose lower case is longer)', () => {
  it("reports the name's own span after a dotted capital I (U+0130 lower-cases to 2 UTF-16 units)", () => {
    const text = 'İİ what is carrier aggregation?';
    const refs = catalog.findReferences(text);
    expect(refs.map((r) => [r.feature, r.kind, r.match, r.index])).toEqual([
      ['FAJ_121_3046', 'name', 'carrier aggregation', text.indexOf('carrier')],
    ]);
  });

  it('property: every reported span is the reference it names, and U+0130 behaves as any other non-word character', () => {
    const f = catalog.features;
    const pieces = fc.oneof(
      fc.constantFrom('İ', 'İİ', 'ı', 'K', 'ẞ', 'ß', 'Σ', '𐐀', 'é', ' ', '-', '(', 'x', 'NR ', 'Tx', '_'),
      fc
        .constantFrom(...f.slice(0, 80))
        .chain((x) => fc.constantFrom(x.name, x.name.toUpperCase(), x.acronym, x.id, x.faj_code)),
      fc.string({ maxLength: 4 }),
    );
    fc.assert(
      fc.property(fc.array(pieces, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        const refs = catalog.findReferences(text);
        for (const r of refs) {
          expect(text.slice(r.index, r.index + r.match.length)).toBe(r.match);
          expect(spanNames(r), `${JSON.stringify(text)} → ${JSON.stringify(r)}`).toBe(true);
        }
        // 'İ' is no ASCII letter or digit: any other one-unit non-word character gives the same references.
        expect(catalog.findReferences(text.replaceAll('İ', '#'))).toEqual(refs);
      }),
      { numRuns: 1500, seed: 20240611 },
    );
  });

  it('a name containing such a character is matched case-insensitively at its own offsets', () => {
    const finder = new ReferenceFinder([{ id: 'FAJ_999_0001', acronym: 'Q', name: 'Straße İzmir Link' }]);
    const text = 'İİ about STRASSE? no: straße İzmir link, yes';
    const refs = finder.find(text);
    expect(refs).toEqual([
      { feature: 'FAJ_999_0001', kind: 'name', match: 'straße İzmir link', index: text.indexOf('straße') },
    ]);
  });
});
