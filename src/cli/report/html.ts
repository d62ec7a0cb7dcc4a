import { toJson } from '../output.js';
import { type Chart, escapeHtml, renderChart } from './svg-chart.js';

export interface HtmlReport {
  title: string;
  /** Headline figures, shown as a table. */
  summary: Array<[string, string | number]>;
  charts: Chart[];
  /** Tables after the charts (e.g. one row per run of a campaign). */
  tables?: Table[];
  /** The full JSON report, embedded (collapsed) at the end. */
  report: unknown;
}

export interface Table {
  title: string;
  header: string[];
  rows: Array<Array<string | number>>;
}

function renderTable(t: Table): string {
  const cells = (tag: string, xs: ReadonlyArray<string | number>) =>
    xs.map((x) => `<${tag}>${escapeHtml(String(x))}</${tag}>`).join('');
  return `<h2>${escapeHtml(t.title)}</h2>
<table><tr>${cells('th', t.header)}</tr>${t.rows.map((r) => `<tr>${cells('td', r)}</tr>`).join('')}</table>`;
}

/** A self-contained HTML page (no scripts, no network): headline table, charts, the full report. */
export function renderHtml(r: HtmlReport): string {
  const rows = r.summary
    .map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(String(v))}</td></tr>`)
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(r.title)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:24px auto;max-width:820px;color:#222}
table{border-collapse:collapse;margin-bottom:16px}th,td{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
th{font-weight:600;color:#555}figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}
pre{background:#f7f7f7;padding:10px;overflow:auto;font-size:12px}
</style></head><body>
<h1>${escapeHtml(r.title)}</h1>
<table>${rows}</table>
${r.charts.map(renderChart).join('\n')}
${(r.tables ?? []).map(renderTable).join('\n')}
<details><summary>Full report (JSON)</summary><pre>${escapeHtml(toJson(r.report))}</pre></details>
</body></html>
`;
}
