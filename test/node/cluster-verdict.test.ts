import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { runCoordinatorCluster } from '../../src/node/coordinator-cluster.js';

// A stand-in for `elex coordinator` (the harness takes its launcher as `elexBin`): it answers the harness's
// routes the way a broken control plane would, so what the checker lets through is visible in one second.
const FAKE = `// A fake \`elex node|coordinator\` for harness tests: prints a ready line, answers the harness's routes.
import { createServer } from 'node:http';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
const argv = process.argv.slice(2);
const arg = (name) => argv[argv.indexOf(name) + 1];
const kind = argv[0];
const id = Number(arg('--id'));
const [host, port] = arg('--http').split(':');
const dataDir = arg('--data-dir');
const mode = (process.env.FAKE_MODE ?? '').split(',');
const has = (m) => mode.includes(m);
if (has('fail-restart') && existsSync(join(dataDir, 'started'))) {
  process.stderr.write('fake: refusing to restart\\n');
  process.exit(3);
}
mkdirSync(dataDir, { recursive: true });
writeFileSync(join(dataDir, 'started'), String(process.pid));
const kv = new Map();
const active = new Set();
const send = (res, status, body) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const server = createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    const url = new URL(req.url, 'http://x');
    const p = url.pathname;
    if (p === '/status') return send(res, 200, { id, role: id === 1 ? 'leader' : 'follower', term: 1, leader: 1 });
    if (p === '/sessions') return send(res, 200, { client: 7 });
    if (p.startsWith('/kv/')) {
      const key = decodeURIComponent(p.slice(4));
      if (req.method === 'GET') return send(res, kv.has(key) ? 200 : 404, { value: kv.get(key) ?? null });
      if (has('kv-refuse')) return send(res, 409, { ok: false, previous: null, error: 'E_REFUSED' });
      kv.set(key, body);
      return send(res, 200, { ok: true, previous: null });
    }
    if (p === '/admin/members') return setTimeout(() => send(res, 200, { ok: true }), Number(process.env.FAKE_ADMIN_MS ?? 0));
    if (p === '/commands') {
      if (has('coord-unanswered'))
        return send(res, 504, { code: 'E_LEADER_CHANGED', message: 'the leader changed (it may still apply)' });
      return send(res, 200, { ok: true });
    }
    if (p === '/active') return send(res, 200, { features: [...active], applied: 5 });
    if (p === '/query') {
      if (has('query-fail'))
        return send(res, 200, { ok: false, reason: 'COORDINATOR_DOWN', route: null, answers: [], standby: [] });
      return send(res, 200, { ok: true, route: 'local', answers: [], standby: [] });
    }
    if (p === '/agents')
      return send(res, 200, { failover: { parts: 0, unanswered: 0, remembered: 0, suspected: 0, gossip: null } });
    send(res, 404, { code: 'E_NOT_FOUND', message: p });
  });
});
server.listen(Number(port), host, () => {
  setTimeout(() => process.stdout.write(\`fake \${kind} \${id} listening\\n\`), Number(process.env.FAKE_READY_MS ?? 0));
});
process.on('SIGTERM', () => process.exit(0));
`;

const dirs: string[] = [];
function fakeBin(): { bin: string; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'elex-cluster-test-'));
  dirs.push(dir);
  const bin = join(dir, 'fake-elex.mjs');
  writeFileSync(bin, FAKE);
  return { bin, dir: join(dir, 'cluster') };
}
afterEach(() => {
  delete process.env.FAKE_MODE;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('elex cluster --app coordinator: what the verdict (violations) lets through', () => {
  it('a run in which no command got an answer reports a violation (the invariants were checked against nothing)', async () => {
    process.env.FAKE_MODE = 'coord-unanswered';
    const { bin, dir } = fakeBin();
    const report = await runCoordinatorCluster({
      nodes: 3,
      activations: 4,
      conflictPairs: 1,
      queries: 0,
      concurrency: 2,
      dir,
      elexBin: bin,
      catalog: defaultCatalog(),
      kills: 0,
    });
    expect(report.commands).toBe(6);
    expect(report.unanswered).toBe(6);
    expect(report.accepted).toBe(0);
    // The CLI exits 1 only on violations: with none, every command lost is exit 0.
    expect(report.violations.length).toBeGreaterThan(0);
  }, 30_000);

  it('a query the coordinators fail (ok: false) is a violation, not only a count in queries.failed', async () => {
    process.env.FAKE_MODE = 'query-fail';
    const { bin, dir } = fakeBin();
    const report = await runCoordinatorCluster({
      nodes: 3,
      activations: 0,
      conflictPairs: 0,
      queries: 4,
      concurrency: 2,
      dir,
      elexBin: bin,
      catalog: defaultCatalog(),
      kills: 0,
    });
    expect(report.queries.issued).toBe(4);
    expect(report.queries.ok).toBe(0);
    expect(report.queries.failed).toEqual({ COORDINATOR_DOWN: 4 });
    expect(report.violations.length).toBeGreaterThan(0);
  }, 30_000);
});
