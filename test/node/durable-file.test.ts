import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'elex-durable-file-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const repo = fileURLToPath(new URL('../..', import.meta.url));
const module = fileURLToPath(new URL('../../src/node/durable-file.ts', import.meta.url));

describe('writeFileDurably', () => {
  it('a short write (a full disk) never replaces the old file with a cut one', () => {
    const path = join(root, 'agents.json');
    const old = `${JSON.stringify({ old: true })}\n`;
    writeFileSync(path, old);
    const data = 'x'.repeat(10_000);
    // A child whose files may not grow past 4 KiB: the kernel writes the first 4,096 bytes and says so, as it
    // does on a disk that fills up mid-write; the next write fails (EFBIG; Node ignores SIGXFSZ).
    const child = spawnSync(
      'prlimit',
      [
        '--fsize=4096',
        process.execPath,
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `const { writeFileDurably } = await import(${JSON.stringify(module)});
         try { writeFileDurably(${JSON.stringify(path)}, ${JSON.stringify(data)}); console.log('saved'); }
         catch (e) { console.log('failed', e.code); }`,
      ],
      { cwd: repo, encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.status, child.stderr).toBe(0);
    expect([old, data]).toContain(readFileSync(path, 'utf8'));
    expect(child.stdout.trim()).toBe('failed EFBIG');
  });
});
