import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runLocalCluster } from '../../src/node/local-cluster.js';
import { KillSchedule, LocalProcesses, type MemberStatus } from '../../src/node/processes.js';

// A stand-in for `elex node` (the harness takes its launcher as `elexBin`), written to a temporary file.
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

/** Pids of live processes whose command line names `needle` (the cluster directory). */
function pidsNaming(needle: string): number[] {
  const out: number[] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      const cmd = readFileSync(`/proc/${e}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${e}/stat`, 'utf8').split(') ')[1]?.[0];
      if (cmd.includes(needle) && state !== 'Z') out.push(Number(e));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterEach(() => {
  delete process.env.FAKE_MODE;
  delete process.env.FAKE_READY_MS;
  for (const d of dirs.splice(0)) {
    for (const pid of pidsNaming(d)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(d, { recursive: true, force: true });
  }
});

describe('KillSchedule: the progress line and the report agree', () => {
  it('the stderr line names the same operation as kills[].at_op', async () => {
    let issued = 4;
    const members = [1, 2, 3].map((id) => ({
      id,
      raft: { host: '127.0.0.1', port: 1 },
      http: { host: '127.0.0.1', port: 2 },
      proc: null,
    }));
    const procs = {
      members,
      live: members,
      kill: () => {},
      // Other workers go on issuing operations while the killer asks who leads.
      waitForLeader: async (): Promise<MemberStatus> => {
        issued += 5;
        return { id: 1, role: 'leader', term: 3, leader: 1 };
      },
    } as unknown as LocalProcesses;
    const lines: string[] = [];
    const schedule = new KillSchedule(
      procs,
      9,
      1,
      (l) => lines.push(l),
      () => issued,
    );
    await schedule.before(3);
    expect(schedule.kills).toHaveLength(1);
    const line = lines.find((l) => l.startsWith('SIGKILL'))!;
    expect(line).toContain(`at operation ${schedule.kills[0].at_op}`);
  });
});

describe('LocalProcesses: a stop reaches every process it started', () => {
  it('stopEvery during start (a Ctrl-C while the processes come up) leaves none of them running', async () => {
    process.env.FAKE_READY_MS = '1500';
    const { bin, dir } = fakeBin();
    const starting = LocalProcesses.start('node', 3, bin, dir);
    starting.catch(() => {});
    const until = Date.now() + 10_000;
    while (pidsNaming(dir).length < 3 && Date.now() < until) await sleep(50);
    expect(pidsNaming(dir)).toHaveLength(3);
    // What `elex cluster` does on SIGINT/SIGTERM/SIGHUP, then it dies of the signal.
    await LocalProcesses.stopEvery();
    await sleep(2500);
    const left = pidsNaming(dir);
    await starting.then(
      (p) => p.stopAll(),
      () => {},
    );
    expect(left).toEqual([]);
  }, 30_000);
});

describe('runLocalCluster: a restart that fails', () => {
  it('fails the run with E_CLUSTER, without an unhandled rejection (which kills the CLI before its cleanup)', async () => {
    process.env.FAKE_MODE = 'fail-restart';
    const { bin, dir } = fakeBin();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const run = runLocalCluster({ nodes: 3, writes: 1500, concurrency: 1, dir, elexBin: bin, kills: 1 });
      await expect(run).rejects.toMatchObject({ code: 'E_CLUSTER' });
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled.map(String)).toEqual([]);
  }, 30_000);
});
