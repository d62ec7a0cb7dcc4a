/**
 * Issue 5's Byzantine table, measured and judged by one command. For each MDP and each size (10 agents with 3
 * attackers, 20 with 6) it runs two `elex simulate federation` campaigns as child processes, `--jobs` at a
 * time: the default robust rule under every attack, and the plain visit-weighted merge under `none` and
 * `visit-inflation`. Each report is saved as JSON under `--dir`; a saved report with the same seeds is reused,
 * so an interrupted run resumes where it stopped (`--fresh` re-measures everything: a saved report does not
 * know which code produced it), and `--render` prints the table from saved reports alone.
 * Prints the Markdown table with ✗ on every figure that misses, then the criteria met and each one missed
 * (src/sim/federation/verdict.ts). About 8 minutes for 10 seeds with 2 jobs on a 2-core machine.
 *
 *   npx tsx scripts/federation-table.ts [--seeds 10] [--seed 1] [--jobs 2] [--episodes N] [--dir out/federation-table] [--fresh | --render] [--json]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type CampaignReportView,
  criteriaCount,
  failures,
  judgeColumn,
  type MdpName,
  parseCampaignReport,
  renderVerdict,
} from '../src/sim/federation/index.js';
import { nonNegativeInt, parseArgs, positiveInt, text } from './args.js';

const args = parseArgs(
  'federation-table',
  [
    "Runs issue 5's twelve Byzantine campaigns (3 MDPs x {10/3, 20/6} x {robust under every attack, plain",
    'under none and visit-inflation}), saves each report as JSON, and prints the table judged against the',
    'criteria. Saved reports with the same seeds are reused (--fresh re-runs them all: a saved report does not',
    'know which code produced it); --render only reads them. --json prints the verdicts as one JSON object',
    '(criteria, met, failures, and per column every figure and whether it passes) instead of the table.',
    "--episodes overrides every MDP's budget (a quick look; the issue's figures use the defaults).",
  ].join('\n'),
  {
    '--seeds': { value: positiveInt, default: 10, help: 'seeds per campaign' },
    '--seed': { value: nonNegativeInt, default: 1, help: "root of the campaigns' seeds" },
    '--jobs': { value: positiveInt, default: 2, help: 'campaigns at a time' },
    '--episodes': { value: positiveInt, help: "episodes per agent (default: each MDP's budget)" },
    '--dir': {
      value: text('DIR', 'a directory'),
      default: join('out', 'federation-table'),
      help: 'saved reports',
    },
    '--fresh': { help: 're-run every campaign, saved or not' },
    '--render': { help: 'only print the table from saved reports' },
    '--json': { help: 'the verdicts as one JSON object instead of the table' },
  },
);

/** The campaigns running now: stopped with this script, so none runs on as an orphan. */
const running = new Set<ChildProcess>();
// A signal to this script alone (`kill <pid>`, a supervisor) goes to the campaigns too, then ends the script
// with it; each campaign's elex passes it on to its own child. A report is saved only once whole.
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
  process.on(sig, () => {
    for (const child of running) child.kill(sig);
    process.removeAllListeners(sig);
    process.kill(process.pid, sig);
  });
}

/** A usage or run error: one line on stderr, exit status 2 (no stack trace); running campaigns are stopped. */
function fail(message: string): never {
  for (const child of running) child.kill('SIGTERM');
  process.stderr.write(`federation-table: ${message}\n`);
  process.exit(2);
}

const seeds = args['--seeds'];
const root = args['--seed'];
const jobs = args['--jobs'];
// Episodes per agent: the MDP's budget unless given (a short budget gives a quick look, not the figures).
const episodes = args['--episodes'] ?? null;
const dir = args['--dir'];
const renderOnly = args['--render'];
const fresh = args['--fresh'];
if (renderOnly && fresh) fail('--render and --fresh exclude each other');
const ELEX = join(import.meta.dirname, '..', 'bin', 'elex.js');
const SIZES = [
  [10, 3],
  [20, 6],
] as const;

interface Job {
  file: string;
  args: string[];
  /** Relative run time: FrozenLake's robust campaigns take most of it. */
  cost: number;
}

const jobsList: Job[] = [];
const columns: { robust: string; plain: string }[] = [];
// Columns in the order of docs/federation.md's table: the easiest MDP first.
const MDPS: readonly MdpName[] = ['elex-query', 'random', 'frozen-lake'];
for (const mdp of MDPS) {
  for (const [agents, byzantine] of SIZES) {
    const common = ['--mdp', mdp, '--agents', `${agents}`, '--byzantine', `${byzantine}`];
    const tail = ['--seeds', `${seeds}`, '--seed', `${root}`, '--json', '--quiet'];
    if (episodes !== null) tail.push('--episodes', `${episodes}`);
    const stem = `${mdp}-${agents}-${byzantine}-s${seeds}-r${root}${episodes === null ? '' : `-e${episodes}`}`;
    const robust = join(dir, `${stem}-robust.json`);
    const plain = join(dir, `${stem}-plain.json`);
    const weight = mdp === 'frozen-lake' ? 4 : 1;
    jobsList.push({
      file: robust,
      args: [...common, '--attack', 'all', '--rule', 'trimmed-mean', ...tail],
      cost: 4 * weight,
    });
    jobsList.push({
      file: plain,
      args: [...common, '--attack', 'none,visit-inflation', '--rule', 'visit-weighted', ...tail],
      cost: weight,
    });
    columns.push({ robust, plain });
  }
}

/** Runs one campaign; its report is written to a temporary file and renamed, so a saved file is whole. */
function run(job: Job): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ELEX, 'simulate', 'federation', ...job.args], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    running.add(child);
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.on('error', reject);
    child.on('close', (code) => {
      running.delete(child);
      if (code !== 0) {
        reject(new Error(`elex simulate federation ${job.args.join(' ')} exited with ${code}`));
        return;
      }
      const tmp = `${job.file}.tmp`;
      writeFileSync(tmp, Buffer.concat(chunks));
      renameSync(tmp, job.file);
      resolve();
    });
  });
}

// Longest first, so the last job to finish is short.
const todo = (fresh ? jobsList : jobsList.filter((j) => !existsSync(j.file))).sort((a, b) => b.cost - a.cost);
if (renderOnly && todo.length > 0) {
  fail(`--render: ${todo.length} reports missing under ${dir}, first ${todo[0].file}`);
}
mkdirSync(dir, { recursive: true });
let started = 0;
let finished = 0;
const t0 = Date.now();
async function worker(): Promise<void> {
  while (started < todo.length) {
    const job = todo[started++];
    await run(job);
    finished++;
    const min = ((Date.now() - t0) / 60_000).toFixed(1);
    process.stderr.write(
      `federation-table: ${finished}/${todo.length} campaigns (${min} min), saved ${job.file}\n`,
    );
  }
}
if (todo.length > 0) {
  const reused = jobsList.length - todo.length;
  process.stderr.write(
    `federation-table: ${todo.length} campaigns to run, ${jobs} at a time, reports in ${dir}${reused > 0 ? ` (${reused} saved reports reused)` : ''}\n`,
  );
  await Promise.all(Array.from({ length: Math.min(jobs, todo.length) }, worker)).catch((e: Error) =>
    fail(`${e.message}; the reports saved so far are kept, a re-run resumes`),
  );
}

function load(file: string): CampaignReportView {
  const again = 'delete it or use --fresh to measure it again';
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    return fail(`${file}: ${(e as Error).message}; ${again}`);
  }
  try {
    return parseCampaignReport(json, file);
  } catch (e) {
    return fail(`${(e as Error).message}; ${again}`);
  }
}
const verdicts = columns.map((c) => judgeColumn(load(c.robust), load(c.plain)));
if (args['--json']) {
  const failed = failures(verdicts);
  const criteria = criteriaCount(verdicts);
  process.stdout.write(
    `${JSON.stringify({ criteria, met: criteria - failed.length, failures: failed, columns: verdicts }, null, 2)}\n`,
  );
} else {
  process.stdout.write(renderVerdict(verdicts));
}
