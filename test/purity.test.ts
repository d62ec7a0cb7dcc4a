import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/** Protocol cores take time, randomness and IO from their driver (DESIGN §2, principle 1). */
const CORES = ['raft', 'gossip', 'learning', 'swarm'];
const FORBIDDEN: Array<[string, RegExp]> = [
  ['Date.now', /\bDate\.now\s*\(/],
  ['new Date()', /\bnew Date\s*\(\s*\)/],
  ['Math.random', /\bMath\.random\s*\(/],
  ['setTimeout', /\bsetTimeout\s*\(/],
  ['setInterval', /\bsetInterval\s*\(/],
  ['performance.now', /\bperformance\.now\s*\(/],
  ['fs', /from\s+['"](node:)?fs(\/promises)?['"]|require\(\s*['"](node:)?fs['"]\s*\)/],
  ['net', /from\s+['"](node:)?(net|dgram|http|https)['"]|require\(\s*['"](node:)?(net|dgram)['"]\s*\)/],
];

function files(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...files(p));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

function impurities(source: string): string[] {
  // Comments may mention the forbidden calls (to say why they are absent); strip them first.
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
  return FORBIDDEN.filter(([, re]) => re.test(code)).map(([name]) => name);
}

describe('protocol cores are pure', () => {
  it('the checker catches each forbidden call', () => {
    expect(impurities('const t = Date.now();')).toEqual(['Date.now']);
    expect(impurities("import { readFileSync } from 'node:fs';")).toEqual(['fs']);
    expect(impurities("import * as net from 'net';")).toEqual(['net']);
    expect(impurities('setTimeout(f, 1); Math.random();')).toEqual(['Math.random', 'setTimeout']);
    expect(impurities('// Date.now() is injected instead')).toEqual([]);
  });

  for (const core of CORES) {
    const dir = join(import.meta.dirname, '..', 'src', core);
    it(`src/${core} uses no clock, randomness, timers, fs or net of its own`, () => {
      let list: string[] = [];
      try {
        list = files(dir);
      } catch {
        list = [];
      }
      const bad = list.flatMap((f) => impurities(readFileSync(f, 'utf8')).map((what) => `${f}: ${what}`));
      expect(bad).toEqual([]);
    });
  }
});
