import { accessSync, constants, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ElexError } from '../core/index.js';

/** Stable JSON: the report is a pure function of seed and options, so key order must be too. */
export function toJson(value: unknown, pretty = true): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

const REASONS: Record<string, string> = {
  EEXIST: 'it is a file, not a directory',
  ENOTDIR: 'a parent is a file, not a directory',
  ENOENT: 'no such directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on device',
  EISDIR: 'a report file is a directory',
};

function outError(dir: string, e: unknown): ElexError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = (code && REASONS[code]) ?? (e as Error).message;
  return new ElexError('E_OUTPUT', `cannot write to --out '${dir}': ${reason}`);
}

/**
 * Creates `dir` (and its parents) and checks it is a writable directory, so a bad `--out` is refused before
 * a long run rather than after it. Creates one level at a time: Node's recursive mkdir never returns on
 * some virtual file systems (`/proc/x`).
 */
export function prepareOutDir(dir: string): void {
  try {
    const missing: string[] = [];
    let p = resolve(dir);
    while (!existsSync(p)) {
      missing.push(p);
      const parent = dirname(p);
      if (parent === p) break;
      p = parent;
    }
    if (!statSync(p).isDirectory())
      throw Object.assign(new Error('not a directory'), { code: missing.length ? 'ENOTDIR' : 'EEXIST' });
    for (const m of missing.reverse()) mkdirSync(m);
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw outError(dir, e);
  }
}

/** Writes `report.json` (and `report.html` when given) into `dir`, creating it. Returns the paths written. */
export function writeReport(dir: string, report: unknown, html?: string): string[] {
  prepareOutDir(dir);
  const paths = [join(dir, 'report.json')];
  try {
    writeFileSync(paths[0], `${toJson(report)}\n`);
    if (html !== undefined) {
      paths.push(join(dir, 'report.html'));
      writeFileSync(paths[1], html);
    }
  } catch (e) {
    throw outError(dir, e);
  }
  return paths;
}
