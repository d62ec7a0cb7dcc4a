import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatScript, parseScript, ScriptRunner } from './script.js';

const dir = join(import.meta.dirname, 'testdata');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('scripted raft scenarios (test/raft/testdata)', () => {
  it('has scenarios', () => {
    expect(files.length).toBeGreaterThanOrEqual(8);
  });
  for (const f of files) {
    it(f, () => {
      const text = readFileSync(join(dir, f), 'utf8');
      const header = text
        .split('\n')
        .filter((l, i, all) => l.startsWith('#') && all.slice(0, i).every((x) => x.startsWith('#')));
      const blocks = parseScript(text);
      const runner = new ScriptRunner();
      const got = blocks.map((b) => ({ cmd: b.cmd, expected: runner.run(b.cmd) }));
      if (process.env.REWRITE === '1') {
        writeFileSync(join(dir, f), formatScript(got, header.length ? `${header.join('\n')}\n\n` : ''));
        return;
      }
      for (let i = 0; i < blocks.length; i++) {
        expect(`${blocks[i].cmd}\n${got[i].expected}`).toBe(`${blocks[i].cmd}\n${blocks[i].expected}`);
      }
    });
  }
});
