import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Stable JSON: the report is a pure function of seed and options, so key order must be too. */
export function toJson(value: unknown, pretty = true): string {
  return JSON.stringify(value, null, pretty ? 2 : undefined);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${toJson(value)}\n`);
}

/** Writes `report.json` (and `report.html` when given) into `dir`, creating it. Returns the paths written. */
export function writeReport(dir: string, report: unknown, html?: string): string[] {
  mkdirSync(dir, { recursive: true });
  const paths = [join(dir, 'report.json')];
  writeFileSync(paths[0], `${toJson(report)}\n`);
  if (html !== undefined) {
    paths.push(join(dir, 'report.html'));
    writeFileSync(paths[1], html);
  }
  return paths;
}
