import { describe, expect, it } from 'vitest';
import { niceTicks, renderChart } from '../../src/cli/report/svg-chart.js';

describe('SVG charts', () => {
  it('nice ticks are round and cover the range', () => {
    expect(niceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(niceTicks(0, 0.01)).toEqual([0, 0.002, 0.004, 0.006, 0.008, 0.01]);
  });

  it('small tick labels stay distinct', () => {
    const svg = renderChart({
      title: 'q',
      xLabel: 't',
      yLabel: 'v',
      series: [
        {
          name: 's',
          points: [
            [0, 0],
            [1, 0.01],
          ],
        },
      ],
    });
    const labels = [...svg.matchAll(/text-anchor="end">([^<]+)</g)].map((m) => m[1]);
    expect(new Set(labels).size).toBe(labels.length);
    expect(labels).toContain('0.004');
  });

  it('escapes names so a report cannot inject markup', () => {
    const svg = renderChart({
      title: '<b>',
      xLabel: 'x',
      yLabel: 'y',
      series: [{ name: '<script>', points: [[0, 1]] }],
    });
    expect(svg).not.toContain('<script>');
    expect(svg).toContain('&lt;script&gt;');
  });
});
