import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { defaultCatalog } from '../../node/catalog-file.js';
import { printJson } from '../output.js';
import { catalogSummaryJson, catalogText, featureJson, featureText } from './render.js';

interface CatalogOptions {
  json?: boolean;
  find?: string;
}

/** `elex catalog [feature]`: the feature catalogue (data/catalog.json, data/safe-zones.json). */
export function register(program: Command): void {
  program
    .command('catalog [feature]')
    .description(
      'the feature catalogue: one feature (by id, FAJ code, acronym or name; case-insensitive) with its ' +
        'category, coordinator, prerequisites in activation order, conflicts, parameters and safe zones, ' +
        'or all categories',
    )
    .option('--json', 'print JSON: {categories, features} without a feature, the full record with one')
    .option(
      '--find <text>',
      'list the features a free-text query refers to (ids, FAJ codes, acronyms, names)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  elex catalog IFLB\n  elex catalog "FAJ 121 3094" --json\n  elex catalog --json',
    )
    .action((feature: string | undefined, opts: CatalogOptions) => {
      const catalog = defaultCatalog();
      if (opts.find !== undefined) {
        if (feature !== undefined)
          throw new ElexError('E_USAGE', 'give either a feature or --find, not both');
        const refs = catalog.findReferences(opts.find);
        if (opts.json) printJson(refs);
        else if (refs.length === 0)
          throw new ElexError(
            'E_UNKNOWN_FEATURE',
            `no feature matches "${opts.find}" (id, FAJ code, acronym or name)`,
          );
        else {
          for (const r of refs) {
            const f = catalog.get(r.feature)!;
            process.stdout.write(`${f.id}  ${f.acronym.padEnd(8)} ${f.name}  (${r.kind} "${r.match}")\n`);
          }
        }
        return;
      }
      if (feature === undefined) {
        if (opts.json) printJson(catalogSummaryJson(catalog));
        else process.stdout.write(catalogText(catalog));
        return;
      }
      const f = catalog.resolve(feature);
      if (opts.json) printJson(featureJson(catalog, f));
      else process.stdout.write(featureText(catalog, f));
    });
}
