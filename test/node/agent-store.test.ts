import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { stateHi, stateLo } from '../../src/learning/index.js';
import { AGENTS_FORMAT, AgentStore } from '../../src/node/agent-store.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { type ControlView, FeatureAgent, OWN_STATES } from '../../src/swarm/agent/index.js';
import { thrownElexError } from '../support/errors.js';

const catalog = defaultCatalog();
const root = mkdtempSync(join(tmpdir(), 'elex-agent-store-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const view: ControlView = { active: true, values: [], raftIndex: 1 };
const features = catalog.categories[0].features.slice(0, 3);

/** Fresh agents for `ids`, by feature id, as a coordinator hosts them. */
const host = (ids: readonly string[]) =>
  new Map(ids.map((f, i) => [f, new FeatureAgent(`agent-${f}`, catalog.get(f)!, new SeededRng(i))]));

function rate(a: FeatureAgent, queries: number, first = 1): void {
  const { type, complexity } = OWN_STATES[0];
  for (let q = first; q < first + queries; q++) {
    a.answer(q, type, complexity, a.feature, view);
    a.feedback(q, 1, true, 0, a.feature.id);
  }
}

describe("the hosted agents' store", () => {
  it('a restart resumes every agent where it was; a save happens only when something changed', () => {
    const path = join(mkdtempSync(join(root, 's')), 'agents.json');
    const agents = host(features);
    rate(agents.get(features[0])!, 5);
    const store = new AgentStore(path, agents, 0);
    store.load(); // no file yet: a first start
    expect(store.save()).toBe(true);
    expect(store.save()).toBe(false);
    rate(agents.get(features[1])!, 1);
    expect(store.save()).toBe(true);
    expect(store.stats).toMatchObject({ saves: 2, saveFailures: 0, lastSaveError: null });

    const again = host(features);
    const restarted = new AgentStore(path, again, 0);
    restarted.load();
    expect(restarted.stats).toMatchObject({ restored: 3, carried: 0, bytes: store.stats.bytes });
    expect(store.stats.bytes).toBe(readFileSync(path).length);
    for (const f of features) expect(again.get(f)!.snapshot()).toEqual(agents.get(f)!.snapshot());
    expect(restarted.save()).toBe(false); // nothing changed since the load
  });

  it('keeps the snapshots of agents another coordinator hosts now, instead of losing them', () => {
    const path = join(mkdtempSync(join(root, 's')), 'agents.json');
    const all = host(features);
    rate(all.get(features[2])!, 3);
    new AgentStore(path, all, 0).save();
    // The categories moved: this coordinator hosts only the first two agents now.
    const fewer = host(features.slice(0, 2));
    const store = new AgentStore(path, fewer, 0);
    store.load();
    expect(store.stats).toMatchObject({ restored: 2, carried: 1 });
    rate(fewer.get(features[0])!, 1);
    expect(store.save()).toBe(true);
    const back = host(features);
    new AgentStore(path, back, 0).load();
    expect(back.get(features[2])!.snapshot()).toEqual(all.get(features[2])!.snapshot());
  });

  it('refuses a file it cannot use with E_DECODE and leaves it as it was', () => {
    const dir = mkdtempSync(join(root, 's'));
    const path = join(dir, 'agents.json');
    const agents = host(features);
    rate(agents.get(features[0])!, 2);
    new AgentStore(path, agents, 0).save();
    const good = JSON.parse(readFileSync(path, 'utf8')) as { agents: Array<{ feature: string }> };
    for (const bad of [
      '{"format":"elex-agents/1","agents":[',
      JSON.stringify({ format: 'elex-agents/9', agents: [] }),
      JSON.stringify({ format: AGENTS_FORMAT, agents: [...good.agents, good.agents[0]] }),
      JSON.stringify({ format: AGENTS_FORMAT, agents: [{ ...good.agents[0], interactions: 'many' }] }),
    ]) {
      writeFileSync(path, bad);
      const e = thrownElexError(() => new AgentStore(path, host(features), 0).load());
      expect(e.code).toBe('E_DECODE');
      expect(e.message).toContain('move it aside');
      expect(readFileSync(path, 'utf8')).toBe(bad);
    }
  });

  it('a save that fails is counted with its reason, and the next one retries', () => {
    const dir = mkdtempSync(join(root, 's'));
    writeFileSync(join(dir, 'file'), '');
    const agents = host(features);
    rate(agents.get(features[0])!, 1);
    const store = new AgentStore(join(dir, 'file', 'agents.json'), agents, 0); // its directory is a file
    expect(store.save()).toBe(false);
    expect(store.save()).toBe(false);
    expect(store.stats.saveFailures).toBe(2);
    expect(store.stats.lastSaveError).toMatch(/EEXIST|ENOTDIR/);
  });

  it('patterns about states no agent is ever in change nothing, so the store can read back what it saves (found by http-fuzz)', () => {
    // POST /patterns took any (hi, lo): 65 posts of 64 made every hosted agent hold > 4096 rows, saved, and the
    // next start refused the file (E_DECODE). An agent's states are its 36 (type × complexity × own or peer's).
    const path = join(mkdtempSync(join(root, 's')), 'agents.json');
    const agents = host(features.slice(0, 1));
    const a = agents.get(features[0])!;
    let applied = 0;
    for (let i = 0; i < 4200; i++)
      if (a.applyPattern({ origin: 'agent-x', hi: 1 + (i % 7), lo: i, action: 1, q: 0.5 })) applied++;
    expect([applied, a.table.size]).toEqual([0, 0]);
    // One of its own states still takes a pattern.
    const { state } = OWN_STATES[0];
    expect(
      a.applyPattern({ origin: 'agent-x', hi: stateHi(state), lo: stateLo(state), action: 1, q: 0.5 }),
    ).toBe(true);
    new AgentStore(path, agents, 0).save();
    const again = new AgentStore(path, host(features.slice(0, 1)), 0);
    again.load();
    expect(again.stats.restored).toBe(1);
  });
});
