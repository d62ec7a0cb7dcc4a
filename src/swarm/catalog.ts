import { createHash } from 'node:crypto';
import type { z } from 'zod';
import { ElexError } from '../core/index.js';
import {
  type CatalogFile,
  catalogFileSchema,
  type FeatureRecord,
  type SafeZoneRecord,
  type SafeZonesFile,
  safeZonesFileSchema,
  zoneProblem,
} from './catalog-schema.js';
import { CATEGORIES, type CategoryId, type CoordinatorId, coordinatorOf } from './categories.js';
import { activationOrder, findCycle } from './graph.js';
import { type FeatureReference, ReferenceFinder } from './references.js';

export interface Feature extends Readonly<FeatureRecord> {
  readonly coordinator: CoordinatorId;
}

export interface Category {
  readonly id: CategoryId;
  readonly name: string;
  readonly coordinator: CoordinatorId;
  /** The upstream category names folded into this one. */
  readonly upstream: readonly string[];
  readonly features: readonly string[];
}

export type SafeZone = Readonly<SafeZoneRecord>;

/**
 * The feature catalogue and its safe zones, validated. Built once at start from `data/catalog.json` and
 * `data/safe-zones.json` (the node loader reads them; this module never touches the file system).
 */
export class Catalog {
  readonly features: readonly Feature[];
  readonly categories: readonly Category[];
  readonly zones: readonly SafeZone[];
  readonly metadata: CatalogFile['metadata'];
  readonly zonesMetadata: SafeZonesFile['metadata'];
  /** Zones linked to no feature: they apply to every feature. */
  readonly globalZones: readonly SafeZone[];

  private readonly byId = new Map<string, Feature>();
  private readonly acronymIndex = new Map<string, Feature[]>();
  private readonly nameIndex = new Map<string, Feature[]>();
  private readonly zoneIndex = new Map<string, SafeZone>();
  private readonly linkedZones = new Map<string, SafeZone[]>();
  private readonly dependentIndex = new Map<string, string[]>();
  private readonly categoryIndex = new Map<string, Category>();
  private readonly finder: ReferenceFinder;

  /**
   * sha256 (hex) of what the catalogue says, as parsed: categories, features and safe zones. A coordinator's
   * snapshot names the catalogue it was taken over by this, not by `metadata.content_hash`, which the file
   * states about itself (an edited file keeps the hash of the original).
   */
  readonly fingerprint: string;
  /** `metadata.content_hash` is the hash of the file's categories and features (scripts/build-catalog.ts). */
  readonly contentHashVerified: boolean;

  /** Use `parseCatalog`: the constructor trusts that its input was validated. */
  constructor(file: CatalogFile, zones: SafeZonesFile, contentHashVerified = false) {
    this.fingerprint = createHash('sha256')
      .update(JSON.stringify({ categories: file.categories, features: file.features, zones: zones.zones }))
      .digest('hex');
    this.contentHashVerified = contentHashVerified;
    this.metadata = file.metadata;
    this.zonesMetadata = zones.metadata;
    this.features = file.features.map((f) => ({
      ...f,
      coordinator: coordinatorOf(f.category as CategoryId),
    }));
    this.categories = file.categories.map((c) => ({
      ...c,
      id: c.id as CategoryId,
      coordinator: coordinatorOf(c.id as CategoryId),
    }));
    this.zones = zones.zones;
    this.globalZones = this.zones.filter((z) => z.scope === 'global');
    for (const f of this.features) {
      this.byId.set(f.id, f);
      push(this.acronymIndex, f.acronym.toUpperCase(), f);
      push(this.nameIndex, f.name.toLowerCase(), f);
      for (const r of f.requires) push(this.dependentIndex, r, f.id);
    }
    for (const c of this.categories) this.categoryIndex.set(c.id, c);
    for (const z of this.zones) {
      this.zoneIndex.set(z.parameter, z);
      for (const f of z.features) push(this.linkedZones, f, z);
    }
    this.finder = new ReferenceFinder(this.features);
  }

  get size(): number {
    return this.features.length;
  }

  /** By id (`FAJ_121_3094`). */
  get(id: string): Feature | undefined {
    return this.byId.get(id);
  }

  /** By FAJ code, any spacing or case (`FAJ 121 3094`, `faj_121_3094`, `FAJ1213094`). */
  byFaj(code: string): Feature | undefined {
    const m = /^\s*FAJ[\s_]*(\d{3})[\s_]*(\d{4})\s*$/i.exec(code);
    return m ? this.byId.get(`FAJ_${m[1]}_${m[2]}`) : undefined;
  }

  /** By acronym, case-insensitive (13 acronyms are shared by two or three features, hence a list). */
  byAcronym(acronym: string): readonly Feature[] {
    return this.acronymIndex.get(acronym.trim().toUpperCase()) ?? [];
  }

  /** By exact name, case-insensitive (two names are shared by two features). */
  byName(name: string): readonly Feature[] {
    return this.nameIndex.get(name.trim().toLowerCase()) ?? [];
  }

  /** Every feature a reference may mean: an id or FAJ code first, else acronym matches, else name matches. */
  lookup(ref: string): readonly Feature[] {
    const byCode = this.byFaj(ref);
    if (byCode) return [byCode];
    const acr = this.byAcronym(ref);
    return acr.length > 0 ? acr : this.byName(ref);
  }

  /** The one feature `ref` names; `E_UNKNOWN_FEATURE` or `E_AMBIGUOUS_FEATURE` otherwise. */
  resolve(ref: string): Feature {
    const hits = this.lookup(ref);
    if (hits.length === 1) return hits[0];
    if (hits.length === 0) {
      throw new ElexError('E_UNKNOWN_FEATURE', `no feature with id, FAJ code, acronym or name "${ref}"`, {
        ref,
      });
    }
    const list = hits.map((f) => `${f.id} (${f.name})`).join(', ');
    throw new ElexError('E_AMBIGUOUS_FEATURE', `"${ref}" names ${hits.length} features: ${list}; use an id`, {
      ref,
      candidates: hits.map((f) => f.id),
    });
  }

  private must(id: string): Feature {
    const f = this.byId.get(id);
    if (!f) throw new ElexError('E_UNKNOWN_FEATURE', `no feature with id ${id}`, { id });
    return f;
  }

  /** Transitive prerequisites in activation order (without the feature itself). */
  prerequisites(id: string): readonly string[] {
    return this.must(id).activation_order.slice(0, -1);
  }

  /** Prerequisites in activation order, ending with the feature itself. */
  activationOrder(id: string): readonly string[] {
    return this.must(id).activation_order;
  }

  /** Direct conflicts (symmetric). */
  conflicts(id: string): readonly string[] {
    return this.must(id).conflicts;
  }

  /** Features that list `id` as a direct prerequisite. */
  dependents(id: string): readonly string[] {
    this.must(id);
    return this.dependentIndex.get(id) ?? [];
  }

  category(id: CategoryId | string): Category | undefined {
    return this.categoryIndex.get(id);
  }

  categoryOf(featureId: string): Category {
    return this.categoryIndex.get(this.must(featureId).category)!;
  }

  featuresIn(category: CategoryId | string): readonly Feature[] {
    return (this.categoryIndex.get(category)?.features ?? []).map((id) => this.byId.get(id)!);
  }

  zone(parameter: string): SafeZone | undefined {
    return this.zoneIndex.get(parameter);
  }

  /** Safe zones linked to the feature by its acronym or name (not the global ones). */
  zonesFor(featureId: string): readonly SafeZone[] {
    this.must(featureId);
    return this.linkedZones.get(featureId) ?? [];
  }

  /** Whether `parameter` is one of the feature's parameters: a zone linked to it, or a global zone. */
  appliesTo(parameter: string, featureId: string): boolean {
    const z = this.zoneIndex.get(parameter);
    // A global zone applies to every feature of the catalogue, not to any string (a review found 'nope' passed).
    return (
      z !== undefined && this.byId.has(featureId) && (z.scope === 'global' || z.features.includes(featureId))
    );
  }

  /** Feature references in free text (ids, FAJ codes, acronyms, names); see references.ts for the rules. */
  findReferences(text: string): FeatureReference[] {
    return this.finder.find(text);
  }
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

function refuse(path: string, reason: string): never {
  throw new ElexError('E_CATALOG', `${path}: ${reason}`, { path, reason });
}

function validate<S extends z.ZodType>(schema: S, json: unknown, path: string): z.infer<S> {
  const r = schema.safeParse(json);
  if (r.success) return r.data;
  const first = r.error.issues[0];
  const where = first.path.length > 0 ? first.path.join('.') : '(root)';
  const more = r.error.issues.length > 1 ? ` (+${r.error.issues.length - 1} more)` : '';
  return refuse(path, `at ${where}: ${first.message}${more}`);
}

/**
 * Validates both files (schema, then the cross-checks: 14 categories in canonical order, every feature in
 * exactly one, edges to known features only, conflicts symmetric, requires a DAG, activation orders as computed,
 * safe zones valid and linked both ways) and returns the catalogue. A broken file is refused with an
 * `E_CATALOG` error naming the path and the reason.
 */
export function parseCatalog(
  catalogJson: unknown,
  catalogPath: string,
  zonesJson: unknown,
  zonesPath: string,
): Catalog {
  const file = validate(catalogFileSchema, catalogJson, catalogPath);
  const zones = validate(safeZonesFileSchema, zonesJson, zonesPath);
  const p = catalogPath;

  const ids = new Set<string>();
  for (const f of file.features) {
    if (ids.has(f.id)) refuse(p, `feature ${f.id} appears twice`);
    if (f.faj_code.replaceAll(' ', '_') !== f.id) refuse(p, `feature ${f.id} has FAJ code ${f.faj_code}`);
    ids.add(f.id);
  }
  const want = CATEGORIES.map((c) => c.id).join(',');
  const got = file.categories.map((c) => c.id).join(',');
  if (got !== want) refuse(p, `categories must be exactly ${want} in that order, got ${got}`);
  const home = new Map<string, string>();
  for (const c of file.categories) {
    for (const id of c.features) {
      if (!ids.has(id)) refuse(p, `category ${c.id} lists unknown feature ${id}`);
      if (home.has(id)) refuse(p, `feature ${id} is in categories ${home.get(id)} and ${c.id}`);
      home.set(id, c.id);
    }
  }
  const byId = new Map(file.features.map((f) => [f.id, f]));
  const requires = new Map<string, readonly string[]>();
  for (const f of file.features) {
    if (home.get(f.id) !== f.category)
      refuse(p, `feature ${f.id} has category ${f.category} but is not listed in it`);
    for (const [kind, list] of [
      ['requires', f.requires],
      ['conflicts', f.conflicts],
      ['related', f.related],
    ] as const) {
      for (const t of list) {
        if (!ids.has(t)) refuse(p, `feature ${f.id} ${kind} unknown feature ${t}`);
        if (t === f.id) refuse(p, `feature ${f.id} ${kind} itself`);
      }
      if (new Set(list).size !== list.length) refuse(p, `feature ${f.id} lists a ${kind} edge twice`);
    }
    for (const c of f.conflicts) {
      if (!byId.get(c)!.conflicts.includes(f.id)) refuse(p, `conflict ${f.id} → ${c} is not symmetric`);
    }
    requires.set(f.id, f.requires);
  }
  const cycle = findCycle(requires);
  if (cycle) refuse(p, `requires has a cycle: ${cycle.join(' → ')}`);
  for (const f of file.features) {
    const order = activationOrder(requires, f.id);
    if (order.join(',') !== f.activation_order.join(',')) {
      refuse(p, `feature ${f.id} activation_order is not the topological order ${order.join(',')}`);
    }
  }

  const params = new Set<string>();
  for (const z of zones.zones) {
    if (params.has(z.parameter)) refuse(zonesPath, `safe zone ${z.parameter} appears twice`);
    params.add(z.parameter);
    const bad = zoneProblem(z);
    if (bad) refuse(zonesPath, `safe zone ${z.parameter}: ${bad}`);
    if ((z.scope === 'global') !== (z.features.length === 0)) {
      refuse(
        zonesPath,
        `safe zone ${z.parameter}: scope ${z.scope} with ${z.features.length} linked features`,
      );
    }
    for (const id of z.features) {
      const f = byId.get(id);
      if (!f) refuse(zonesPath, `safe zone ${z.parameter} is linked to unknown feature ${id}`);
      if (!f.safe_zones.includes(z.parameter)) {
        refuse(p, `feature ${id} does not list safe zone ${z.parameter} that is linked to it`);
      }
    }
  }
  for (const f of file.features) {
    for (const s of f.safe_zones) {
      if (!params.has(s)) refuse(p, `feature ${f.id} lists unknown safe zone ${s}`);
      if (!zones.zones.find((z) => z.parameter === s)!.features.includes(f.id)) {
        refuse(p, `feature ${f.id} lists safe zone ${s} that is not linked to it`);
      }
    }
  }
  // Hashed from the input as read, the way the build script hashed what it wrote (key order included).
  const raw = catalogJson as { categories?: unknown; features?: unknown };
  const stated = createHash('sha256')
    .update(JSON.stringify({ categories: raw.categories, features: raw.features }))
    .digest('hex');
  return new Catalog(file, zones, stated === file.metadata.content_hash);
}

export type { FeatureReference } from './references.js';
