import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ElexError } from '../core/index.js';
import { type Catalog, parseCatalog } from '../swarm/index.js';

/** The committed catalogue files of this package (`<package>/data`). */
export const DATA_DIR = fileURLToPath(new URL('../../data/', import.meta.url));

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ElexError(
      'E_CATALOG',
      `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? 'error'})`,
      {
        path,
      },
    );
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new ElexError('E_CATALOG', `${path}: not valid JSON (${(e as Error).message})`, { path });
  }
}

/**
 * Reads and validates `catalog.json` and `safe-zones.json` from `dir` (default: the package's `data/`).
 * A missing, unreadable or invalid file is refused with an `E_CATALOG` error naming the path and the reason.
 */
export function loadCatalog(dir: string = DATA_DIR): Catalog {
  const catalogPath = join(dir, 'catalog.json');
  const zonesPath = join(dir, 'safe-zones.json');
  return parseCatalog(readJson(catalogPath), catalogPath, readJson(zonesPath), zonesPath);
}

let cached: Catalog | undefined;

/** The package's catalogue, loaded once per process. */
export function defaultCatalog(): Catalog {
  cached ??= loadCatalog();
  return cached;
}
