/** A real `elex coordinator` process keeps its hosted agents' learning across a restart, in --data-dir. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { freePorts } from '../../src/node/processes.js';

const IFLB = defaultCatalog().resolve('IFLB').id;
const ELEX = join(import.meta.dirname, '..', '..', 'bin', 'elex.js');
const dir = mkdtempSync(join(tmpdir(), 'elex-coord-agents-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
/** Every process started, stopped after each test whatever its outcome (SIGTERM: bin/elex.js passes it to its child). */
const started: ChildProcess[] = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
});

interface Started {
  proc: ChildProcess;
  /** Resolves with the exit code and stderr. */
  exited: Promise<{ code: number | null; err: string }>;
}

/** One single-voter coordinator process, its stderr collected. */
function spawnCoordinator(raft: number, http: number, dataDir: string): Started {
  const args = ['--id', '1', '--cluster', `1=127.0.0.1:${raft}`, '--http', `127.0.0.1:${http}`];
  const proc = spawn(
    process.execPath,
    [ELEX, 'coordinator', ...args, '--data-dir', dataDir, '--federation', '0', '--agents-save', '0'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  started.push(proc);
  let err = '';
  proc.stderr!.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const exited = new Promise<{ code: number | null; err: string }>((r) =>
    proc.once('exit', (code) => r({ code, err })),
  );
  return { proc, exited };
}

/** A coordinator that printed its ready line (rejects when it exits first). */
async function coordinator(raft: number, http: number, dataDir: string): Promise<Started> {
  const { proc, exited } = spawnCoordinator(raft, http, dataDir);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('"ready"')) resolve();
    });
    void exited.then((x) => reject(new Error(`coordinator exited ${x.code}: ${x.err}`)));
  });
  return { proc, exited };
}

async function json(url: string, body?: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  for (let i = 0; ; i++) {
    const r = await fetch(url, body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) });
    // Until the single voter has elected itself, a linearizable read answers 503.
    if (r.status === 503 && i < 100) {
      await new Promise((res) => setTimeout(res, 50));
      continue;
    }
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  }
}

describe('elex coordinator keeps its agents', () => {
  it('learning survives a restart; an agents file it cannot read stops the start with E_DECODE', async () => {
    const [raft, http] = await freePorts(2);
    const base = `http://127.0.0.1:${http}`;
    const data = join(dir, 'c1');
    const ask = async (id: number) => {
      const r = await json(`${base}/query`, {
        id,
        type: 'troubleshoot',
        text: 'IFLB',
        features: [IFLB],
        complexity: 'simple',
      });
      expect(r.status).toBe(200);
      return (r.body.answers as Array<{ confidence: number; feature: string }>)[0];
    };

    const first = await coordinator(raft, http, data);
    const fresh = await ask(1);
    for (let q = 2; q <= 6; q++) {
      await ask(q);
      const f = await json(`${base}/feedback`, {
        queryId: q,
        feature: fresh.feature,
        rating: 1,
        resolved: true,
      });
      expect(f.status).toBe(200);
    }
    const learned = await ask(7);
    expect(learned.confidence).toBeGreaterThan(fresh.confidence);
    first.proc.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
    expect(existsSync(join(data, 'agents.json'))).toBe(true);

    const second = await coordinator(raft, http, data);
    const agents = await json(`${base}/agents`);
    expect(agents.body.store).toMatchObject({ restored: agents.body.hosted, carried: 0 });
    // The same question is answered with the confidence the agent had earned before the restart.
    expect((await ask(8)).confidence).toBe(learned.confidence);
    second.proc.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);

    writeFileSync(join(data, 'agents.json'), '{"format":"elex-agents/1","agents":[');
    const { code, err } = await spawnCoordinator(raft, http, data).exited;
    expect(code).toBe(1);
    expect(err).toMatch(/agents\.json: not JSON.*move it aside.*\[E_DECODE\]/);
  }, 60_000);
});
