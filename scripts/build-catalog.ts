/**
 * Builds `data/catalog.json` and `data/safe-zones.json` from the upstream ELEX data
 * (`<repo>/../shared/upstream-data/*.json`, or `--from DIR`). Deterministic: same inputs, same bytes.
 *
 *   npx tsx scripts/build-catalog.ts [--from DIR] [--out DIR] [--check]
 *
 * `--check` writes nothing and exits 1 when the committed files differ from what the inputs give.
 * The rules (DESIGN §7) are written into the catalogue's metadata and explained in docs/catalog.md.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ElexError } from '../src/core/index.js';
import { parseCatalog } from '../src/swarm/catalog.js';
import type {
  CatalogFile,
  CategoryRule,
  DroppedEdge,
  EdgeKind,
  FeatureRecord,
  SafeZoneRecord,
  SafeZonesFile,
} from '../src/swarm/catalog-schema.js';
import { CATEGORIES, type CategoryId, UPSTREAM_OTHER } from '../src/swarm/categories.js';
import { activationOrder, chainDepth, findCycle, prerequisiteClosure } from '../src/swarm/graph.js';
import { parseArgs, text } from './args.js';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_FROM = resolve(REPO, '..', 'shared', 'upstream-data');
export const DEFAULT_OUT = join(REPO, 'data');
export const INPUT_FILES = ['elex-features-593.json', 'elex-safe-zones.json', 'elex-feature-parameters.json'];

interface UpstreamFeature {
  id: string;
  faj_code: string;
  name: string;
  acronym: string;
  cxc: string | null;
  category: string;
  access_technology: string;
  license_required: boolean;
  requires: string[];
  conflicts_with: string[];
  related: string[];
  parameter_count: number;
}

interface UpstreamZone {
  parameter: string;
  group: string;
  absolute_min: number;
  absolute_max: number;
  safe_min: number;
  safe_max: number;
  change_limit_percent: number;
  cooldown_seconds: number;
}

export interface UpstreamInputs {
  features: { source: string; features: UpstreamFeature[] };
  zones: { source: string; note: string; safe_zones: UpstreamZone[] };
  parameters: { by_feature: Record<string, Array<{ parameter: string; relation: string }>> };
  hashes: Array<{ file: string; sha256: string }>;
}

export function readUpstream(dir: string): UpstreamInputs {
  const raw = INPUT_FILES.map((f) => {
    try {
      return readFileSync(join(dir, f));
    } catch (e) {
      throw new ElexError('E_CATALOG_INPUT', `cannot read ${join(dir, f)}: ${(e as Error).message}`);
    }
  });
  const parse = (i: number): unknown => {
    try {
      return JSON.parse(raw[i].toString('utf8'));
    } catch (e) {
      throw new ElexError('E_CATALOG_INPUT', `${join(dir, INPUT_FILES[i])}: ${(e as Error).message}`);
    }
  };
  return {
    features: parse(0) as UpstreamInputs['features'],
    zones: parse(1) as UpstreamInputs['zones'],
    parameters: parse(2) as UpstreamInputs['parameters'],
    hashes: INPUT_FILES.map((file, i) => ({ file, sha256: sha256(raw[i]) })),
  };
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

const RULES = {
  categories:
    'The 14 categories of DESIGN §7 in canonical order (ca, rrm, nr, transport, mimo, mobility, energy, coverage, ' +
    'voice, ue, qos, interference, timing, security); each upstream named category maps to its namesake.',
  positioning: 'Upstream "Positioning" joins Timing & Sync (category_rule "joined").',
  other:
    'Each upstream "Other" feature takes the category most of its neighbours belong to. Neighbours: distinct ' +
    'in-catalogue features linked to it by requires, conflicts_with or related, in either direction. Rounds: in ' +
    'each round every still-unassigned Other feature votes with its neighbours that had a category at the start ' +
    'of the round (so the outcome does not depend on visiting order); those with at least one vote are assigned ' +
    'together; rounds repeat until nothing changes, so Other features reached only through other Other features ' +
    'are assigned in later rounds (category_rule "neighbours", round recorded in metadata.other_mapping).',
  tie_break:
    'Among categories with equally many votes: the fallback category if it is among them, else the first in the ' +
    'canonical order.',
  fallback:
    'Other features with no categorised neighbour after the last round: NR/5G when access_technology is NR, ' +
    'Radio Resource Management otherwise (category_rule "fallback").',
  edges:
    'Edges to ids outside the 593 features (and self-edges) are dropped and listed in metadata.dropped_edges with ' +
    'the feature and the kind of edge; edge lists are deduplicated and sorted.',
  conflicts: 'Conflicts are made symmetric: A conflicts with B whenever either lists the other.',
  requires:
    'Requires must form a DAG; the build fails on a cycle, or on a feature conflicting with its own chain.',
  activation_order:
    'Topological order of the prerequisite closure ending with the feature itself; Kahn algorithm taking the ' +
    'smallest ready id first.',
  parameters:
    'Only per-feature parameter counts are kept (parameter_count and counts per relation type); the 9,432 MO ' +
    'attribute names (1.3 MB upstream, no ranges or defaults) are left out to keep the catalogue small.',
};

const ZONE_MATCHING_RULE =
  'A group names acronym tokens: the parenthesised part when it is an acronym ("Load Balancing (IFLB)" → IFLB), ' +
  'or the whole name when it is one acronym-like word ("DRX (Discontinuous Reception)" → DRX; a word with two or ' +
  'more capitals). A zone is linked to every feature whose acronym equals a token or has a token as one of its ' +
  'hyphen-separated parts (CAA-IFLB, CM-DRX), case-insensitive, and to every feature whose name equals the group ' +
  'name without its parenthesis, case-insensitive ("Micro Sleep TX" → Micro Sleep Tx). Zones of a group that ' +
  'links to no feature are global: they apply to every feature.';

const RELATIONS = ['Introduced', 'Affecting', 'Affected', 'Referenced'] as const;

export interface BuiltFiles {
  catalog: CatalogFile;
  zones: SafeZonesFile;
}

export function buildCatalog(input: UpstreamInputs): BuiltFiles {
  const up = input.features.features;
  if (up.length !== 593) throw new ElexError('E_CATALOG_INPUT', `expected 593 features, got ${up.length}`);
  const byId = new Map(up.map((f) => [f.id, f]));
  if (byId.size !== up.length) throw new ElexError('E_CATALOG_INPUT', 'duplicate feature ids upstream');

  // Edges: keep in-catalogue targets, list the rest.
  const dropped: DroppedEdge[] = [];
  const clean = (f: UpstreamFeature, kind: EdgeKind): string[] => {
    const out = new Set<string>();
    for (const t of f[kind]) {
      if (t === f.id) dropped.push({ feature: f.id, kind, target: t, reason: 'self' });
      else if (!byId.has(t)) dropped.push({ feature: f.id, kind, target: t, reason: 'unknown_target' });
      else out.add(t);
    }
    return [...out].sort();
  };
  const requires = new Map<string, string[]>();
  const conflicts = new Map<string, Set<string>>(up.map((f) => [f.id, new Set<string>()]));
  const related = new Map<string, string[]>();
  for (const f of up) {
    requires.set(f.id, clean(f, 'requires'));
    for (const c of clean(f, 'conflicts_with')) {
      conflicts.get(f.id)!.add(c);
      conflicts.get(c)!.add(f.id);
    }
    related.set(f.id, clean(f, 'related'));
  }
  dropped.sort(
    (a, b) =>
      cmp(a.feature, b.feature) || cmp(a.kind, b.kind) || cmp(a.target, b.target) || cmp(a.reason, b.reason),
  );

  const cycle = findCycle(requires);
  if (cycle) throw new ElexError('E_CATALOG_CYCLE', `requires has a cycle: ${cycle.join(' → ')}`, { cycle });
  for (const f of up) {
    const chain = prerequisiteClosure(requires, f.id);
    chain.add(f.id);
    for (const a of chain) {
      for (const b of conflicts.get(a)!) {
        if (chain.has(b)) {
          throw new ElexError('E_CATALOG_CONFLICT', `${f.id} cannot be activated: its chain has ${a} ⟂ ${b}`);
        }
      }
    }
  }

  // Categories.
  const upstreamToId = new Map<string, CategoryId>();
  for (const c of CATEGORIES) for (const u of c.upstream) upstreamToId.set(u, c.id);
  const category = new Map<string, CategoryId>();
  const rule = new Map<string, CategoryRule>();
  for (const f of up) {
    if (f.category === UPSTREAM_OTHER) continue;
    const id = upstreamToId.get(f.category);
    if (!id)
      throw new ElexError('E_CATALOG_INPUT', `feature ${f.id}: unknown upstream category ${f.category}`);
    category.set(f.id, id);
    rule.set(f.id, CATEGORIES.find((c) => c.id === id)!.upstream[0] === f.category ? 'upstream' : 'joined');
  }
  const neighbours = new Map<string, Set<string>>(up.map((f) => [f.id, new Set<string>()]));
  const link = (a: string, b: string): void => {
    neighbours.get(a)!.add(b);
    neighbours.get(b)!.add(a);
  };
  for (const f of up) {
    for (const t of requires.get(f.id)!) link(f.id, t);
    for (const t of conflicts.get(f.id)!) link(f.id, t);
    for (const t of related.get(f.id)!) link(f.id, t);
  }
  const order = CATEGORIES.map((c) => c.id);
  const fallbackOf = (f: UpstreamFeature): CategoryId => (f.access_technology === 'NR' ? 'nr' : 'rrm');
  const others = up.filter((f) => f.category === UPSTREAM_OTHER).sort((a, b) => cmp(a.id, b.id));
  const otherMapping: CatalogFile['metadata']['other_mapping'] = [];
  for (let round = 1; ; round++) {
    const decided: Array<[string, CategoryId, Record<string, number>]> = [];
    for (const f of others) {
      if (category.has(f.id)) continue;
      const votes = new Map<CategoryId, number>();
      for (const n of neighbours.get(f.id)!) {
        const c = category.get(n);
        if (c) votes.set(c, (votes.get(c) ?? 0) + 1);
      }
      if (votes.size === 0) continue;
      const best = Math.max(...votes.values());
      const tied = order.filter((c) => votes.get(c) === best);
      const fb = fallbackOf(f);
      const pick = tied.includes(fb) ? fb : tied[0];
      decided.push([
        f.id,
        pick,
        Object.fromEntries(order.filter((c) => votes.has(c)).map((c) => [c, votes.get(c)!])),
      ]);
    }
    if (decided.length === 0) break;
    for (const [id, c, votes] of decided) {
      category.set(id, c);
      rule.set(id, 'neighbours');
      otherMapping.push({ feature: id, category: c, rule: 'neighbours', round, votes });
    }
  }
  for (const f of others) {
    if (category.has(f.id)) continue;
    category.set(f.id, fallbackOf(f));
    rule.set(f.id, 'fallback');
    otherMapping.push({ feature: f.id, category: fallbackOf(f), rule: 'fallback', round: 0, votes: {} });
  }
  otherMapping.sort((a, b) => cmp(a.feature, b.feature));

  // Safe zones.
  const zoneIn = input.zones.safe_zones;
  const groups = [...new Set(zoneIn.map((z) => z.group))];
  const groupInfo: SafeZonesFile['metadata']['groups'] = [];
  const groupFeatures = new Map<string, string[]>();
  for (const g of groups) {
    const paren = /\(([^)]*)\)/.exec(g)?.[1]?.trim();
    const bare = g.replace(/\s*\([^)]*\)\s*/g, ' ').trim();
    const tokens: string[] = [];
    if (paren && isAcronym(paren)) tokens.push(paren.toUpperCase());
    if (!bare.includes(' ') && isAcronym(bare)) tokens.push(bare.toUpperCase());
    const hits: Array<{ id: string; acronym: string; name: string; rule: string }> = [];
    for (const f of [...up].sort((a, b) => cmp(a.id, b.id))) {
      const acr = f.acronym.toUpperCase();
      let how: string | undefined;
      if (tokens.includes(acr)) how = 'acronym';
      else if (acr.includes('-') && acr.split('-').some((p) => tokens.includes(p))) how = 'acronym part';
      else if (f.name.toLowerCase() === bare.toLowerCase()) how = 'name';
      if (how) hits.push({ id: f.id, acronym: f.acronym, name: f.name, rule: how });
    }
    const entry: SafeZonesFile['metadata']['groups'][number] = { group: g, tokens, features: hits };
    const odd = hits.filter((h) => h.rule === 'acronym' && !namesAgree(bare, h.name));
    if (odd.length > 0) {
      entry.note =
        `linked by acronym only: the group says "${bare}" but ` +
        odd.map((h) => `${h.id} ${h.acronym} is "${h.name}"`).join(', ');
    }
    groupInfo.push(entry);
    groupFeatures.set(
      g,
      hits.map((h) => h.id),
    );
  }
  const zones: SafeZoneRecord[] = zoneIn.map((z) => {
    const features = groupFeatures.get(z.group)!;
    return {
      parameter: z.parameter,
      group: z.group,
      absolute_min: z.absolute_min,
      absolute_max: z.absolute_max,
      safe_min: z.safe_min,
      safe_max: z.safe_max,
      change_limit_percent: z.change_limit_percent,
      cooldown_seconds: z.cooldown_seconds,
      scope: features.length > 0 ? 'linked' : 'global',
      features,
    };
  });
  const zonesOf = new Map<string, string[]>();
  for (const z of zones) for (const f of z.features) zonesOf.set(f, [...(zonesOf.get(f) ?? []), z.parameter]);

  // Features.
  const features: FeatureRecord[] = [...up]
    .sort((a, b) => cmp(a.id, b.id))
    .map((f) => {
      const rel = { Introduced: 0, Affecting: 0, Affected: 0, Referenced: 0 };
      for (const p of input.parameters.by_feature[f.id] ?? []) {
        if ((RELATIONS as readonly string[]).includes(p.relation))
          rel[p.relation as (typeof RELATIONS)[number]]++;
      }
      return {
        id: f.id,
        faj_code: f.faj_code,
        name: f.name,
        acronym: f.acronym,
        cxc: f.cxc,
        access_technology: f.access_technology,
        license_required: f.license_required,
        category: category.get(f.id)!,
        upstream_category: f.category,
        category_rule: rule.get(f.id)!,
        requires: requires.get(f.id)!,
        conflicts: [...conflicts.get(f.id)!].sort(),
        related: related.get(f.id)!,
        activation_order: activationOrder(requires, f.id),
        parameter_count: f.parameter_count,
        parameter_relations: rel,
        safe_zones: zonesOf.get(f.id) ?? [],
      };
    });
  const categories = CATEGORIES.map((c) => ({
    id: c.id,
    name: c.name,
    coordinator: c.coordinator,
    upstream: [...c.upstream],
    features: features.filter((f) => f.category === c.id).map((f) => f.id),
  }));

  const upstreamCounts: Record<string, number> = {};
  for (const f of [...up].sort((a, b) => cmp(a.category, b.category))) {
    upstreamCounts[f.category] = (upstreamCounts[f.category] ?? 0) + 1;
  }
  const memo = new Map<string, number>();
  const catalog: CatalogFile = {
    format: 'elex-catalog/1',
    metadata: {
      source: input.features.source,
      generated_by: 'scripts/build-catalog.ts (npm run catalog:build)',
      inputs: input.hashes,
      content_hash: contentHash(categories, features),
      rules: RULES,
      counts: {
        features: features.length,
        categories: categories.length,
        requires_edges: features.reduce((n, f) => n + f.requires.length, 0),
        conflict_pairs: features.reduce((n, f) => n + f.conflicts.length, 0) / 2,
        related_edges: features.reduce((n, f) => n + f.related.length, 0),
        dropped_edges: dropped.length,
        dropped_targets: new Set(dropped.filter((d) => d.reason === 'unknown_target').map((d) => d.target))
          .size,
        max_activation_depth: Math.max(...features.map((f) => chainDepth(requires, f.id, memo))),
        upstream_categories: upstreamCounts,
        categories_after_mapping: Object.fromEntries(categories.map((c) => [c.id, c.features.length])),
      },
      dropped_edges: dropped,
      dropped_targets: [
        ...new Set(dropped.filter((d) => d.reason === 'unknown_target').map((d) => d.target)),
      ].sort(),
      other_mapping: otherMapping,
    },
    categories,
    features,
  };
  const linked = zones.filter((z) => z.scope === 'linked').length;
  const zonesFile: SafeZonesFile = {
    format: 'elex-safe-zones/1',
    metadata: {
      source: input.zones.source,
      note: input.zones.note,
      matching_rule: ZONE_MATCHING_RULE,
      counts: { zones: zones.length, linked, global: zones.length - linked, groups: groups.length },
      groups: groupInfo,
    },
    zones,
  };
  // The build never writes what the loader would refuse.
  parseCatalog(catalog, 'data/catalog.json (generated)', zonesFile, 'data/safe-zones.json (generated)');
  return { catalog, zones: zonesFile };
}

/** sha256 of the compact JSON of the categories and features: what the catalogue says, not how it is printed. */
export function contentHash(categories: unknown, features: unknown): string {
  return sha256(JSON.stringify({ categories, features }));
}

function isAcronym(word: string): boolean {
  return /^[A-Za-z][A-Za-z0-9]*$/.test(word) && (word.match(/[A-Z]/g)?.length ?? 0) >= 2;
}

/** Whether a group name and a feature name share their significant words (to flag acronym-only links). */
function namesAgree(group: string, name: string): boolean {
  const words = (s: string): string[] => s.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  const n = new Set(words(name).map((w) => w.replace(/s$/, '')));
  const g = words(group).map((w) => w.replace(/s$/, ''));
  return g.filter((w) => n.has(w)).length * 2 >= g.length;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Stable, reasonably compact JSON: objects and arrays that fit on one line (≤ 110 columns) stay on one line,
 * long arrays of scalars are packed several per line, everything else is indented by two spaces.
 */
export function formatJson(value: unknown): string {
  return `${fmt(value, '')}\n`;
}

const WIDTH = 110;

function fmt(v: unknown, indent: string): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  const inner = `${indent}  `;
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    const one = `[${v.map((x) => fmt(x, inner)).join(', ')}]`;
    if (!one.includes('\n') && one.length + indent.length <= WIDTH) return one;
    if (v.every((x) => x === null || typeof x !== 'object')) {
      const lines: string[] = [];
      let line = '';
      for (const x of v.map((y) => JSON.stringify(y))) {
        if (line && inner.length + line.length + x.length + 2 > WIDTH) {
          lines.push(`${line},`);
          line = x;
        } else line = line ? `${line}, ${x}` : x;
      }
      lines.push(line);
      return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`;
    }
    return `[\n${v.map((x) => inner + fmt(x, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(v as Record<string, unknown>);
  if (entries.length === 0) return '{}';
  const one = `{${entries.map(([k, x]) => `${JSON.stringify(k)}: ${fmt(x, inner)}`).join(', ')}}`;
  if (!one.includes('\n') && one.length + indent.length <= WIDTH) return one;
  return `{\n${entries.map(([k, x]) => `${inner}${JSON.stringify(k)}: ${fmt(x, inner)}`).join(',\n')}\n${indent}}`;
}

export function renderFiles(built: BuiltFiles): { 'catalog.json': string; 'safe-zones.json': string } {
  return { 'catalog.json': formatJson(built.catalog), 'safe-zones.json': formatJson(built.zones) };
}

/** Writes one output file; a refusal (e.g. `--out` into a missing directory) is an ElexError, one line. */
function write(path: string, text: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw new ElexError('E_CATALOG_OUTPUT', `cannot write ${path}: ${(e as Error).message}`);
  }
}

function main(argv: string[]): number {
  const args = parseArgs(
    'build-catalog',
    'Builds data/catalog.json and data/safe-zones.json from the upstream ELEX data (docs/catalog.md).',
    {
      '--from': { value: text('DIR', 'a directory'), default: DEFAULT_FROM, help: 'the upstream data' },
      '--out': {
        value: text('DIR', 'a directory'),
        default: DEFAULT_OUT,
        help: 'where the files are written',
      },
      '--check': { help: 'write nothing; exit 1 when the files in --out differ from what the inputs give' },
    },
    argv,
  );
  const from = resolve(args['--from']);
  const out = resolve(args['--out']);
  const check = args['--check'];
  const built = buildCatalog(readUpstream(from));
  const files = renderFiles(built);
  let stale = 0;
  for (const [name, text] of Object.entries(files)) {
    const path = join(out, name);
    let old = '';
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = '';
    }
    if (old === text) continue;
    stale++;
    if (check) process.stderr.write(`build-catalog: ${path} is out of date\n`);
    else write(path, text);
  }
  const c = built.catalog.metadata.counts;
  const zc = built.zones.metadata.counts;
  process.stderr.write(
    `build-catalog: ${c.features} features in ${c.categories} categories ` +
      `(${Object.entries(c.categories_after_mapping)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}); ` +
      `${c.dropped_edges} edges dropped; safe zones ${zc.linked} linked, ${zc.global} global; ` +
      `${check ? (stale ? 'OUT OF DATE' : 'up to date') : `${stale} file(s) written`}\n`,
  );
  return check && stale > 0 ? 1 : 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    if (e instanceof ElexError) {
      process.stderr.write(`build-catalog: ${e.message} [${e.code}]\n`);
      process.exitCode = 1;
    } else throw e;
  }
}
