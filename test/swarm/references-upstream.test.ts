/**
 * How the product resolves feature references in free text (src/swarm/references.ts,
 * `Catalog.findReferences`) compared with the upstream feature list in ../shared/upstream-data.
 * The upstream data must be present: a missing directory fails these tests, it never skips them.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadCatalog } from '../../src/node/catalog-file.js';

const UPSTREAM_DIR = fileURLToPath(new URL('../../../shared/upstream-data/', import.meta.url));

interface UpstreamFeature {
  id: string;
  faj_code: string;
  name: string;
  acronym: string;
}

function upstreamFeatures(): UpstreamFeature[] {
  const path = `${UPSTREAM_DIR}elex-features-593.json`;
  if (!existsSync(path)) {
    throw new Error(
      `upstream data missing: ${path} (../shared/upstream-data must be checked out next to the repo)`,
    );
  }
  return (JSON.parse(readFileSync(path, 'utf8')) as { features: UpstreamFeature[] }).features;
}

const catalog = loadCatalog();

describe('references to upstream features in free text', () => {
  it('finds a hyphenated upstream acronym inside a longer hyphenated word, not another feature (SS-DRX-enabled, CAA-IFLB-based)', () => {
    const up = upstreamFeatures();
    const sharing = (acr: string): string[] => up.filter((f) => f.acronym === acr).map((f) => f.id);
    const wrong: string[] = [];
    for (const f of up) {
      if (!f.acronym.includes('-')) continue;
      for (const text of [`${f.acronym}-enabled cells`, `non-${f.acronym} cells`]) {
        const got = catalog.findReferences(text).map((r) => r.feature);
        const want = sharing(f.acronym);
        if (got.join(',') !== want.join(',')) wrong.push(`${JSON.stringify(text)}: ${got.join(',') || '-'}`);
      }
    }
    // 44 upstream acronyms contain a hyphen; each is lost once the word goes on (a suffix or prefix), and
    // for nine of them the finder names a different feature (SS-DRX → FAJ_121_4418 SS "Signed Software").
    expect(wrong).toEqual([]);
  });

  it('"SS-DRX-enabled cells" names FAJ_121_3011 (SS-DRX), not FAJ_121_4418 (SS, Signed Software)', () => {
    const up = upstreamFeatures();
    expect(up.find((f) => f.id === 'FAJ_121_3011')?.acronym).toBe('SS-DRX');
    expect(catalog.findReferences('SS-DRX-enabled cells').map((r) => r.feature)).toEqual(['FAJ_121_3011']);
    expect(catalog.findReferences('a CAA-IFLB-based policy').map((r) => r.feature)).toEqual(['FAJ_121_3075']);
  });

  it('finds an upstream FAJ code in text with every spacing lookup/resolve accept (no-break space, two spaces, tab)', () => {
    const up = upstreamFeatures();
    const f = up.find((x) => x.id === 'FAJ_121_3094')!;
    expect(f.faj_code).toBe('FAJ 121 3094');
    const missed: string[] = [];
    for (const sep of ['\u00a0', '  ', '\t']) {
      const code = f.faj_code.replaceAll(' ', sep);
      // The same string resolves through lookup (Catalog.byFaj takes any whitespace)...
      expect(catalog.lookup(code).map((x) => x.id)).toEqual([f.id]);
      // ...but the text finder, which routes queries, does not see it.
      const got = catalog.findReferences(`tune ${code} tonight`).map((r) => r.feature);
      if (!got.includes(f.id)) missed.push(JSON.stringify(code));
    }
    expect(missed).toEqual([]);
  });
});
