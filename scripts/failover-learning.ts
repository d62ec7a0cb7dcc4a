/**
 * Ratings given while a coordinator is down, on real processes: three keyed `elex coordinator` processes with
 * 1 s federation rounds; coordinator 2 is SIGKILLed; `--ratings` queries about one of its features go through
 * coordinator 1, are answered by coordinator 3's standby agent and rated good; coordinator 2 is restarted from
 * its data directory; the standby's next rounds return the rated experiences, and, once coordinator 1's failure
 * detector sees coordinator 2 alive again, coordinator 2's own agent answers the same question with the
 * confidence those ratings give. Prints one JSON object.
 *
 *   npx tsx scripts/failover-learning.ts [--ratings 5]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultCatalog } from '../src/node/catalog-file.js';
import { httpJson } from '../src/node/http-client.js';
import { LocalProcesses, type Member } from '../src/node/processes.js';
import { parseArgs, positiveInt } from './args.js';

const { '--ratings': ratings } = parseArgs(
  'failover-learning',
  'Ratings given while a coordinator is down, on three real coordinators; prints one JSON object.',
  { '--ratings': { value: positiveInt, default: 5, help: 'queries rated during the outage' } },
);
const bin = fileURLToPath(new URL('../bin/elex.js', import.meta.url));
const catalog = defaultCatalog();
// Category 1 lives on coordinator 2 (category k on the k-th id); its standby host is coordinator 3.
const feature = catalog.categories[1].features[0];
const say = (line: string) => process.stderr.write(`failover-learning: ${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Answer = { standby: string[]; answers: Array<{ agent: string; confidence: number }> };
const ask = async (m: Member, id: number) => {
  const body = JSON.stringify({
    id,
    type: 'troubleshoot',
    text: '',
    features: [feature],
    complexity: 'simple',
  });
  let r = await httpJson(m.http, 'POST', '/query', body, 10_000);
  // 503 (no leader yet) and 504 (the read was not confirmed: a leader just died) are retried, as a client does.
  for (const until = Date.now() + 20_000; (r?.status === 503 || r?.status === 504) && Date.now() < until; ) {
    await sleep(200);
    r = await httpJson(m.http, 'POST', '/query', body, 10_000);
  }
  if (r?.status !== 200) throw new Error(`query ${id}: ${r?.status} ${JSON.stringify(r?.body)}`);
  const a = r.body as Answer;
  return { agent: a.answers[0].agent, confidence: a.answers[0].confidence, standby: a.standby };
};
const returns = async (m: Member) => {
  const r = await httpJson(m.http, 'GET', '/agents');
  if (r?.status !== 200) throw new Error(`GET /agents on coordinator ${m.id}: ${r?.status ?? 'no answer'}`);
  return (r.body as { returns: Record<string, number> }).returns;
};

const dir = mkdtempSync(join(tmpdir(), 'elex-failover-'));
const procs = await LocalProcesses.start('coordinator', 3, bin, dir, undefined, ['--federation', '1s']);
try {
  const [c1, c2, c3] = procs.members;
  await procs.waitForLeader(15_000);
  const before = await ask(c1, 1);
  say(`feature ${feature}: answered by ${before.agent} at ${before.confidence}`);
  procs.kill(c2);
  say('SIGKILL to coordinator 2');
  // Coordinator 2 may have led: the queries need a leader among the other two.
  await procs.waitForLeader(15_000);
  const during = [];
  for (let i = 0; i < ratings; i++) {
    const a = await ask(c1, 100 + i);
    const body = JSON.stringify({ queryId: 100 + i, feature, rating: 1, resolved: true });
    const r = await httpJson(c1.http, 'POST', '/feedback', body);
    during.push({ ...a, rating: r?.status });
  }
  await sleep(2500); // rounds of coordinator 3 while 2 is down: the queue waits
  const waiting = await returns(c3);
  say(`${ratings} ratings taken by the standby; queue ${waiting.pending}, failed sends ${waiting.failed}`);
  await procs.restart(c2);
  say('coordinator 2 restarted from its data directory');
  let back = await returns(c2);
  for (let t = 0; t < 50 && back.learned < ratings; t++) {
    await sleep(200);
    back = await returns(c2);
  }
  // Coordinator 1 asks coordinator 2 again once its failure detector sees the new life alive.
  const restarted = Date.now();
  let after = await ask(c1, 200);
  for (let id = 201; after.standby.length > 0 && id < 300; id++) {
    await sleep(200);
    after = await ask(c1, id);
  }
  const routedBackMs = Date.now() - restarted;
  process.stdout.write(
    `${JSON.stringify(
      {
        feature,
        before_outage: before,
        during_outage: during,
        standby_queue_while_down: { pending: waiting.pending, failed_sends: waiting.failed },
        standby_after: await returns(c3),
        primary_after: back,
        after_return: { ...after, asked_of_primary_again_after_ms: routedBackMs },
      },
      null,
      2,
    )}\n`,
  );
} finally {
  await procs.stopAll();
  rmSync(dir, { recursive: true, force: true });
}
