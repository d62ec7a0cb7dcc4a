import type { Catalog, Feature } from '../../swarm/index.js';

/** `elex catalog --json`: the categories and a short record of every feature. */
export function catalogSummaryJson(catalog: Catalog): unknown {
  return {
    categories: catalog.categories.map((c) => ({ id: c.id, name: c.name, features: c.features })),
    features: catalog.features.map((f) => ({
      id: f.id,
      acronym: f.acronym,
      name: f.name,
      category: f.category,
      requires: f.requires,
      conflicts: f.conflicts,
    })),
  };
}

/** `elex catalog X --json`: the feature's full record plus its coordinator and safe zones in full. */
export function featureJson(catalog: Catalog, f: Feature): unknown {
  return {
    ...f,
    prerequisites: catalog.prerequisites(f.id),
    dependents: catalog.dependents(f.id),
    safe_zones: catalog.zonesFor(f.id),
    global_safe_zones: catalog.globalZones.map((z) => z.parameter),
  };
}

function label(catalog: Catalog, id: string): string {
  const f = catalog.get(id)!;
  return `${f.id}  ${f.acronym.padEnd(8)} ${f.name}`;
}

/** Human-readable description of one feature. */
export function featureText(catalog: Catalog, f: Feature): string {
  const cat = catalog.categoryOf(f.id);
  const lines: string[] = [];
  lines.push(`${f.name} (${f.acronym})`);
  lines.push(`  id           ${f.id}   FAJ code ${f.faj_code}${f.cxc ? `   ${f.cxc}` : ''}`);
  lines.push(`  technology   ${f.access_technology}${f.license_required ? ', licensed' : ', no licence'}`);
  const how =
    f.category_rule === 'upstream'
      ? ''
      : f.category_rule === 'joined'
        ? ` (upstream "${f.upstream_category}")`
        : ` (upstream "${f.upstream_category}", by ${f.category_rule})`;
  lines.push(`  category     ${cat.name} [${cat.id}]${how}, coordinator ${cat.coordinator}`);
  const pre = catalog.prerequisites(f.id);
  lines.push(`  prerequisites in activation order (${pre.length}):`);
  if (pre.length === 0) lines.push('    (none)');
  pre.forEach((id, i) => {
    lines.push(`    ${String(i + 1).padStart(2)}. ${label(catalog, id)}`);
  });
  lines.push(`    -> ${label(catalog, f.id)}`);
  lines.push(`  conflicts (${f.conflicts.length}):`);
  if (f.conflicts.length === 0) lines.push('    (none)');
  for (const id of f.conflicts) lines.push(`    ${label(catalog, id)}`);
  const r = f.parameter_relations;
  lines.push(
    `  parameters   ${f.parameter_count} (introduced ${r.Introduced}, affecting ${r.Affecting}, ` +
      `affected ${r.Affected}, referenced ${r.Referenced})`,
  );
  const zones = catalog.zonesFor(f.id);
  lines.push(
    `  safe zones (${zones.length} linked, ${catalog.globalZones.length} global apply to every feature):`,
  );
  if (zones.length === 0) lines.push('    (none linked)');
  for (const z of zones) {
    lines.push(
      `    ${z.parameter.padEnd(26)} safe [${z.safe_min}, ${z.safe_max}]  absolute [${z.absolute_min}, ` +
        `${z.absolute_max}]  change <= ${z.change_limit_percent}%  cooldown ${z.cooldown_seconds}s`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Human-readable overview: the 14 categories and their sizes. */
export function catalogText(catalog: Catalog): string {
  const m = catalog.metadata.counts;
  const lines = [
    `${m.features} features in ${m.categories} categories; ${m.requires_edges} prerequisite edges, ` +
      `${m.conflict_pairs} conflict pairs; ${m.dropped_edges} upstream edges dropped`,
    '',
  ];
  for (const c of catalog.categories) {
    lines.push(
      `  ${c.id.padEnd(13)} ${String(c.features.length).padStart(4)}  ${c.name.padEnd(27)} ${c.coordinator}`,
    );
  }
  lines.push('', 'elex catalog <id | FAJ code | acronym | name> shows one feature.');
  return `${lines.join('\n')}\n`;
}
