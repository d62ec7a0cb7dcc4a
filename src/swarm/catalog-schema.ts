import { z } from 'zod';
import { CATEGORY_IDS } from './categories.js';

/** zod schemas of `data/catalog.json` and `data/safe-zones.json` (written by scripts/build-catalog.ts). */

const featureId = z.string().regex(/^FAJ_\d{3}_\d{4}$/, 'a feature id looks like FAJ_121_3094');
const categoryId = z.enum(CATEGORY_IDS as [string, ...string[]]);
const count = z.number().int().nonnegative();

export const EDGE_KINDS = ['requires', 'conflicts_with', 'related'] as const;
export type EdgeKind = (typeof EDGE_KINDS)[number];

export const CATEGORY_RULES = ['upstream', 'joined', 'neighbours', 'fallback'] as const;
export type CategoryRule = (typeof CATEGORY_RULES)[number];

export const featureRecordSchema = z.strictObject({
  id: featureId,
  faj_code: z.string().regex(/^FAJ \d{3} \d{4}$/, 'a FAJ code looks like "FAJ 121 3094"'),
  name: z.string().min(1),
  acronym: z.string().min(1),
  cxc: z.string().nullable(),
  access_technology: z.string().min(1),
  license_required: z.boolean(),
  category: categoryId,
  upstream_category: z.string().min(1),
  category_rule: z.enum(CATEGORY_RULES),
  requires: z.array(featureId),
  conflicts: z.array(featureId),
  related: z.array(featureId),
  activation_order: z.array(featureId).min(1),
  parameter_count: count,
  parameter_relations: z.strictObject({
    Introduced: count,
    Affecting: count,
    Affected: count,
    Referenced: count,
  }),
  safe_zones: z.array(z.string()),
});
export type FeatureRecord = z.infer<typeof featureRecordSchema>;

export const droppedEdgeSchema = z.strictObject({
  feature: featureId,
  kind: z.enum(EDGE_KINDS),
  target: z.string(),
  reason: z.enum(['unknown_target', 'self']),
});
export type DroppedEdge = z.infer<typeof droppedEdgeSchema>;

export const otherMappingSchema = z.strictObject({
  feature: featureId,
  category: categoryId,
  rule: z.enum(['neighbours', 'fallback']),
  round: count,
  votes: z.record(z.string(), count),
});

export const catalogFileSchema = z.strictObject({
  format: z.literal('elex-catalog/1'),
  metadata: z.strictObject({
    source: z.string(),
    generated_by: z.string(),
    inputs: z.array(z.strictObject({ file: z.string(), sha256: z.string() })),
    content_hash: z.string(),
    rules: z.record(z.string(), z.string()),
    counts: z.strictObject({
      features: count,
      categories: count,
      requires_edges: count,
      conflict_pairs: count,
      related_edges: count,
      dropped_edges: count,
      dropped_targets: count,
      max_activation_depth: count,
      upstream_categories: z.record(z.string(), count),
      categories_after_mapping: z.record(z.string(), count),
    }),
    dropped_edges: z.array(droppedEdgeSchema),
    dropped_targets: z.array(z.string()),
    other_mapping: z.array(otherMappingSchema),
  }),
  categories: z.array(
    z.strictObject({
      id: categoryId,
      name: z.string(),
      coordinator: z.string(),
      upstream: z.array(z.string()),
      features: z.array(featureId),
    }),
  ),
  features: z.array(featureRecordSchema),
});
export type CatalogFile = z.infer<typeof catalogFileSchema>;

export const zoneBoundsSchema = z.strictObject({
  absolute_min: z.number(),
  absolute_max: z.number(),
  safe_min: z.number(),
  safe_max: z.number(),
  change_limit_percent: z.number(),
  cooldown_seconds: z.number(),
});
export type ZoneBounds = z.infer<typeof zoneBoundsSchema>;

export const safeZoneRecordSchema = z.strictObject({
  parameter: z.string().min(1),
  group: z.string().min(1),
  ...zoneBoundsSchema.shape,
  scope: z.enum(['linked', 'global']),
  features: z.array(featureId),
});
export type SafeZoneRecord = z.infer<typeof safeZoneRecordSchema>;

export const safeZonesFileSchema = z.strictObject({
  format: z.literal('elex-safe-zones/1'),
  metadata: z.strictObject({
    source: z.string(),
    note: z.string(),
    matching_rule: z.string(),
    counts: z.strictObject({ zones: count, linked: count, global: count, groups: count }),
    groups: z.array(
      z.strictObject({
        group: z.string(),
        tokens: z.array(z.string()),
        features: z.array(
          z.strictObject({ id: featureId, acronym: z.string(), name: z.string(), rule: z.string() }),
        ),
        note: z.string().optional(),
      }),
    ),
  }),
  zones: z.array(safeZoneRecordSchema),
});
export type SafeZonesFile = z.infer<typeof safeZonesFileSchema>;

/** The one rule every safe zone obeys (also used by the coordinator's `update_safe_zone`). Returns the reason
 *  a zone is invalid, or undefined. */
export function zoneProblem(z: ZoneBounds): string | undefined {
  const nums = [
    z.absolute_min,
    z.safe_min,
    z.safe_max,
    z.absolute_max,
    z.change_limit_percent,
    z.cooldown_seconds,
  ];
  if (!nums.every(Number.isFinite)) return 'every bound must be a finite number';
  if (!(z.absolute_min <= z.safe_min)) return `absolute_min ${z.absolute_min} > safe_min ${z.safe_min}`;
  if (!(z.safe_min <= z.safe_max)) return `safe_min ${z.safe_min} > safe_max ${z.safe_max}`;
  if (!(z.safe_max <= z.absolute_max)) return `safe_max ${z.safe_max} > absolute_max ${z.absolute_max}`;
  if (!(z.change_limit_percent >= 0)) return `change_limit_percent ${z.change_limit_percent} < 0`;
  if (!(z.cooldown_seconds >= 0)) return `cooldown_seconds ${z.cooldown_seconds} < 0`;
  return undefined;
}
