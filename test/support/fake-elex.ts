import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

// A stand-in for `elex node` (the cluster harness takes its launcher as `elexBin`), shared by the harness tests.
export const FAKE_ELEX = `// A fake \`elex node|coordinator\` for harness tests: prints a ready line, answers the harness's routes.
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

/** Writes the fake launcher into `dir` and returns its path. */
export function writeFakeElex(dir: string): string {
  const bin = join(dir, 'fake-elex.mjs');
  writeFileSync(bin, FAKE_ELEX);
  return bin;
}

/** Pids of live processes whose command line names `needle` (the cluster directory). */
export function pidsNaming(needle: string): number[] {
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

/** SIGKILLs every live process whose command line names `needle` (a test's leftovers). */
export function killNaming(needle: string): void {
  for (const pid of pidsNaming(needle)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}
