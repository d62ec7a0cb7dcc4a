export { Catalog, type Category, type Feature, parseCatalog, type SafeZone } from './catalog.js';
export {
  type CatalogFile,
  type DroppedEdge,
  type FeatureRecord,
  type SafeZoneRecord,
  type SafeZonesFile,
  type ZoneBounds,
  zoneProblem,
} from './catalog-schema.js';
export {
  CATEGORIES,
  CATEGORY_IDS,
  type CategoryId,
  COORDINATOR_IDS,
  type CoordinatorId,
  coordinatorOf,
  isCategoryId,
} from './categories.js';
export * from './coordinator/index.js';
export { activationOrder, findCycle, prerequisiteClosure } from './graph.js';
export { type FeatureReference, ReferenceFinder, type ReferenceKind } from './references.js';
