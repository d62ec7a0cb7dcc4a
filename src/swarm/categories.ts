/**
 * The 14 categories of the swarm (DESIGN §7), one coordinator each, in the canonical order used for every
 * listing and for tie-breaks. `upstream` lists the upstream category names that map onto each one
 * ("Positioning" joins Timing & Sync; "Other" is distributed by the catalogue build, see docs/catalog.md).
 */
export const CATEGORIES = [
  { id: 'ca', name: 'Carrier Aggregation', coordinator: 'coord-ca', upstream: ['Carrier Aggregation'] },
  {
    id: 'rrm',
    name: 'Radio Resource Management',
    coordinator: 'coord-rrm',
    upstream: ['Radio Resource Management'],
  },
  { id: 'nr', name: 'NR/5G', coordinator: 'coord-nr', upstream: ['NR/5G'] },
  {
    id: 'transport',
    name: 'Transport & Connectivity',
    coordinator: 'coord-transport',
    upstream: ['Transport & Connectivity'],
  },
  { id: 'mimo', name: 'MIMO & Antenna', coordinator: 'coord-mimo', upstream: ['MIMO & Antenna'] },
  {
    id: 'mobility',
    name: 'Mobility & Handover',
    coordinator: 'coord-mobility',
    upstream: ['Mobility & Handover'],
  },
  { id: 'energy', name: 'Energy Saving', coordinator: 'coord-energy', upstream: ['Energy Saving'] },
  {
    id: 'coverage',
    name: 'Coverage & Capacity',
    coordinator: 'coord-coverage',
    upstream: ['Coverage & Capacity'],
  },
  { id: 'voice', name: 'Voice & IMS', coordinator: 'coord-voice', upstream: ['Voice & IMS'] },
  { id: 'ue', name: 'UE Handling', coordinator: 'coord-ue', upstream: ['UE Handling'] },
  { id: 'qos', name: 'QoS & Scheduling', coordinator: 'coord-qos', upstream: ['QoS & Scheduling'] },
  {
    id: 'interference',
    name: 'Interference Management',
    coordinator: 'coord-interference',
    upstream: ['Interference Management'],
  },
  {
    id: 'timing',
    name: 'Timing & Sync',
    coordinator: 'coord-timing',
    upstream: ['Timing & Sync', 'Positioning'],
  },
  { id: 'security', name: 'Security', coordinator: 'coord-security', upstream: ['Security'] },
] as const;

export type CategoryId = (typeof CATEGORIES)[number]['id'];
export type CoordinatorId = (typeof CATEGORIES)[number]['coordinator'];

export const CATEGORY_IDS: readonly CategoryId[] = CATEGORIES.map((c) => c.id);
export const COORDINATOR_IDS: readonly CoordinatorId[] = CATEGORIES.map((c) => c.coordinator);

/** The upstream name of the bucket the build redistributes. */
export const UPSTREAM_OTHER = 'Other';

export function isCategoryId(s: string): s is CategoryId {
  return (CATEGORY_IDS as readonly string[]).includes(s);
}

export function coordinatorOf(category: CategoryId): CoordinatorId {
  return `coord-${category}`;
}
