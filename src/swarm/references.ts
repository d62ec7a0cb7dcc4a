/**
 * Finds the features a free-text query talks about: ids (`FAJ_121_3094`), FAJ codes (`FAJ 121 3094`),
 * acronyms as whole words and names. Rules (docs/catalog.md):
 * - ids and FAJ codes: case-insensitive, `_`, space or nothing between the groups;
 * - acronyms: case-sensitive whole tokens (letters, digits, inner hyphens), so prose words ("to", "less") never
 *   match; a hyphenated token that is not an acronym is tried component by component; one-letter acronyms are
 *   ignored;
 * - names: case-insensitive, whole words on both ends;
 * - a match lying strictly inside a longer match is dropped ("Micro Sleep Tx" inside "NR Micro Sleep Tx");
 * - one reference per feature (its first occurrence), in text order.
 */

export type ReferenceKind = 'id' | 'faj' | 'acronym' | 'name';

export interface FeatureReference {
  readonly feature: string;
  readonly kind: ReferenceKind;
  /** The text as it appears in the query. */
  readonly match: string;
  /** Offset of the match in the query. */
  readonly index: number;
}

interface Span {
  start: number;
  end: number;
  kind: ReferenceKind;
  features: readonly string[];
}

export interface ReferenceSource {
  readonly id: string;
  readonly acronym: string;
  readonly name: string;
}

const ALNUM = /[A-Za-z0-9]/;

export class ReferenceFinder {
  private readonly ids = new Set<string>();
  private readonly acronyms = new Map<string, string[]>();
  /** First lower-cased word of a name → [lower-cased name, feature ids]. */
  private readonly names = new Map<string, Array<[string, string[]]>>();

  constructor(features: readonly ReferenceSource[]) {
    const byName = new Map<string, string[]>();
    for (const f of features) {
      this.ids.add(f.id);
      if (f.acronym.length >= 2) push(this.acronyms, f.acronym, f.id);
      const n = lowerInPlace(f.name);
      if (n.length >= 3) push(byName, n, f.id);
    }
    for (const [n, ids] of byName) {
      const first = /^[a-z0-9]+/.exec(n)?.[0] ?? n.slice(0, 1);
      const list = this.names.get(first);
      if (list) list.push([n, ids]);
      else this.names.set(first, [[n, ids]]);
    }
    for (const list of this.names.values()) list.sort((a, b) => b[0].length - a[0].length || cmp(a[0], b[0]));
  }

  find(text: string): FeatureReference[] {
    const spans: Span[] = [];
    // Any spacing `Catalog.byFaj` takes (a no-break space, two spaces, a tab): a code that resolves must be found.
    for (const m of text.matchAll(/FAJ([\s_]*)(\d{3})[\s_]*(\d{4})(?![0-9])/gi)) {
      const id = `FAJ_${m[2]}_${m[3]}`;
      if (!this.ids.has(id) || (m.index > 0 && ALNUM.test(text[m.index - 1]))) continue;
      spans.push({
        start: m.index,
        end: m.index + m[0].length,
        kind: /^\s+$/.test(m[1]) ? 'faj' : 'id',
        features: [id],
      });
    }
    for (const m of text.matchAll(/[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*/g)) {
      const whole = this.acronyms.get(m[0]);
      if (whole) {
        spans.push({ start: m.index, end: m.index + m[0].length, kind: 'acronym', features: whole });
        continue;
      }
      // Runs of parts, longest first from each part: "SS-DRX-enabled" is SS-DRX, not SS (part by part, 44
      // hyphenated acronyms were lost inside longer words, and nine named another feature).
      const parts = m[0].split('-');
      const starts: number[] = [];
      for (let i = 0, at = m.index; i < parts.length; at += parts[i].length + 1, i++) starts.push(at);
      for (let i = 0; i < parts.length; ) {
        let j = parts.length;
        let hit: readonly string[] | undefined;
        for (; j > i; j--) {
          hit = this.acronyms.get(parts.slice(i, j).join('-'));
          if (hit) break;
        }
        if (hit === undefined) {
          i++;
          continue;
        }
        const end = starts[j - 1] + parts[j - 1].length;
        spans.push({ start: starts[i], end, kind: 'acronym', features: hit });
        i = j;
      }
    }
    // Offsets in `lower` are offsets in `text` (`toLowerCase` turns 'İ' into two UTF-16 units).
    const lower = lowerInPlace(text);
    for (const m of lower.matchAll(/[a-z0-9]+/g)) {
      const candidates = this.names.get(m[0]);
      if (!candidates) continue;
      for (const [name, ids] of candidates) {
        const end = m.index + name.length;
        if (lower.startsWith(name, m.index) && (end >= lower.length || !ALNUM.test(lower[end]))) {
          spans.push({ start: m.index, end, kind: 'name', features: ids });
          break;
        }
      }
    }
    const kept = spans.filter(
      (s) =>
        !spans.some(
          (o) => o !== s && o.start <= s.start && o.end >= s.end && o.end - o.start > s.end - s.start,
        ),
    );
    kept.sort((a, b) => a.start - b.start || b.end - a.end);
    const out: FeatureReference[] = [];
    const seen = new Set<string>();
    for (const s of kept) {
      for (const feature of [...s.features].sort()) {
        if (seen.has(feature)) continue;
        seen.add(feature);
        out.push({ feature, kind: s.kind, match: text.slice(s.start, s.end), index: s.start });
      }
    }
    return out;
  }
}

/**
 * `s` lower-cased without moving any character: code point by code point, keeping a character whose lower
 * case has another length (U+0130 'İ' → 'i' + U+0307). So an offset into the result is one into `s`.
 */
function lowerInPlace(s: string): string {
  if (/^[\0-\x7f]*$/.test(s)) return s.toLowerCase();
  let out = '';
  for (const ch of s) {
    const l = ch.toLowerCase();
    out += l.length === ch.length ? l : ch;
  }
  return out;
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
