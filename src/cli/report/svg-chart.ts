/**
 * Dependency-free SVG charts for the HTML reports: line and step series on shared axes. Small on purpose:
 * a report must open from disk with no network and no script.
 */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
}

export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** `step` draws a value held until the next point (terms, leaders, counts of live nodes). */
  kind?: 'line' | 'step';
}

const W = 760;
const H = 260;
const M = { l: 56, r: 16, t: 28, b: 40 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Round axis ticks: 1, 2 or 5 times a power of ten. */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    out.push(Number(v.toPrecision(12)));
  return out;
}

function fmt(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(0)}k`;
  // Significant digits, not fixed decimals: ticks 0.002 apart must not all print as 0.00.
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(3)));
}

export function renderChart(c: Chart): string {
  const pts = c.series.flatMap((s) => s.points);
  if (pts.length === 0) return `<figure><figcaption>${escapeHtml(c.title)}: no data</figcaption></figure>`;
  let x0 = Math.min(...pts.map((p) => p[0]));
  let x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(0, ...pts.map((p) => p[1]));
  let y1 = Math.max(...pts.map((p) => p[1]));
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) y1 = y0 + 1;
  const yt = niceTicks(y0, y1);
  y0 = Math.min(y0, yt[0]);
  y1 = Math.max(y1, yt[yt.length - 1]);
  const xt = niceTicks(x0, x1, 8);
  x0 = Math.min(x0, xt[0]);
  const sx = (x: number) => M.l + ((x - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (y: number) => H - M.b - ((y - y0) / (y1 - y0)) * (H - M.t - M.b);
  const parts: string[] = [];
  for (const t of yt) {
    parts.push(
      `<line x1="${M.l}" x2="${W - M.r}" y1="${sy(t).toFixed(1)}" y2="${sy(t).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${M.l - 6}" y="${(sy(t) + 4).toFixed(1)}" text-anchor="end">${fmt(t)}</text>`,
    );
  }
  for (const t of xt) {
    if (t > x1) continue;
    parts.push(`<text x="${sx(t).toFixed(1)}" y="${H - M.b + 16}" text-anchor="middle">${fmt(t)}</text>`);
  }
  c.series.forEach((s, i) => {
    if (s.points.length === 0) return;
    const d: string[] = [];
    s.points.forEach(([x, y], j) => {
      const X = sx(x).toFixed(1);
      const Y = sy(y).toFixed(1);
      if (j === 0) d.push(`M${X},${Y}`);
      else if (c.kind === 'step') d.push(`H${X}V${Y}`);
      else d.push(`L${X},${Y}`);
    });
    const colour = COLOURS[i % COLOURS.length];
    parts.push(`<path d="${d.join('')}" fill="none" stroke="${colour}" stroke-width="1.5"/>`);
    parts.push(
      `<text x="${M.l + 8 + i * 150}" y="${M.t - 10}" fill="${colour}">■ ${escapeHtml(s.name)}</text>`,
    );
  });
  parts.push(
    `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${H - M.b}" stroke="#888"/>`,
    `<line x1="${M.l}" x2="${W - M.r}" y1="${H - M.b}" y2="${H - M.b}" stroke="#888"/>`,
    `<text x="${(M.l + W - M.r) / 2}" y="${H - 6}" text-anchor="middle">${escapeHtml(c.xLabel)}</text>`,
    `<text x="14" y="${(M.t + H - M.b) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(M.t + H - M.b) / 2})">${escapeHtml(c.yLabel)}</text>`,
  );
  return `<figure><figcaption>${escapeHtml(c.title)}</figcaption><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-size="11" font-family="sans-serif">${parts.join('')}</svg></figure>`;
}
