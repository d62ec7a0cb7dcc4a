import { accessSync, constants, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ElexError } from '../core/index.js';
import { createDirectories, DIR_REASONS } from '../node/make-dir.js';

/** Stable JSON: the report is a pure function of seed and options, so key order must be too. */
export function toJson(value: unknown, pretty = true): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

const REASONS: Record<string, string> = { ...DIR_REASONS, EISDIR: 'a report file is a directory' };

function outError(dir: string, e: unknown): ElexError {
  const code = (e as NodeJS.ErrnoException).code;
  const reason = (code && REASONS[code]) ?? (e as Error).message;
  return new ElexError('E_OUTPUT', `cannot write to --out '${dir}': ${reason}`);
}

/** The files `writeReport` writes into `--out`. */
const REPORT_FILES = ['report.json', 'report.html'] as const;

/**
 * Creates `dir` (and its parents) and checks it is a writable directory whose report files, where they exist,
 * are writable files, so a bad `--out` is refused before a long run rather than after it (`createDirectories`:
 * one level at a time).
 */
export function prepareOutDir(dir: string): void {
  try {
    createDirectories(dir);
    accessSync(dir, constants.W_OK);
    for (const name of REPORT_FILES) {
      const path = join(dir, name);
      if (!existsSync(path)) continue;
      if (statSync(path).isDirectory())
        throw Object.assign(new Error(`${path} is a directory`), { code: 'EISDIR' });
      accessSync(path, constants.W_OK);
    }
  } catch (e) {
    throw outError(dir, e);
  }
}

/** Writes `report.json` (and `report.html` when given) into `dir`, creating it. Returns the paths written. */
export function writeReport(dir: string, report: unknown, html?: string): string[] {
  prepareOutDir(dir);
  const paths = [join(dir, REPORT_FILES[0])];
  try {
    writeFileSync(paths[0], `${toJson(report)}\n`);
    if (html !== undefined) {
      paths.push(join(dir, REPORT_FILES[1]));
      writeFileSync(paths[1], html);
    }
  } catch (e) {
    throw outError(dir, e);
  }
  return paths;
}
