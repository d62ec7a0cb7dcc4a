/**
 * What a primary's mirror writes into the standby agents stays within what standby-agents.json may hold: entries
 * of states no agent is in are skipped (fixed in session 25).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/core/index.js';
import { AgentMirror, MIRROR_ENTRIES_PER_POST, type MirrorEntry } from '../../src/node/agent-mirror.js';
import { AgentStore } from '../../src/node/agent-store.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { parseBody } from '../../src/node/http-api.js';
import { FeatureAgent } from '../../src/swarm/agent/index.js';

const catalog = defaultCatalog();
const features = catalog.categories[0].features.slice(0, 2).map((id) => catalog.get(id)!);
const cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});
const agentsOf = (prefix: string) =>
  new Map(features.map((f, i) => [f.id, new FeatureAgent(`${prefix}${f.id}`, f, new SeededRng(i + 1))]));

describe("the standby's mirrored agents", () => {
  it("what a primary's mirror wrote into the standby agents, standby-agents.json can read back after a save", () => {
    const dir = mkdtempSync(join(tmpdir(), 'standby-mirror-'));
    cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, 'standby-agents.json');
    const standby = agentsOf('standby-agent-');
    const rx = new AgentMirror({
      hosted: new Map(),
      standby,
      known: (f) => catalog.get(f) !== undefined,
      to: null,
    });
    const f = features[0].id;
    // Two schema-valid mirrors of one agent (each at the per-request bound), about states no agent is ever in:
    // the route takes them (a primary with a bug, or anyone on an unkeyed cluster).
    for (const part of [0, 1]) {
      const entries: MirrorEntry[] = [];
      for (let i = 0; i < MIRROR_ENTRIES_PER_POST; i++) entries.push([1000 + part, i, 0, 0.5, 1]);
      const body = parseBody(JSON.stringify({ agents: [{ feature: f, entries }] }), rx.schema);
      expect(rx.receive(body)[0]).toBe(200);
    }
    const store = new AgentStore(file, standby, 0);
    expect(store.save()).toBe(true);
    // The next start of this coordinator reads its own file back.
    const again = new AgentStore(file, agentsOf('standby-agent-'), 0);
    // Before session 25: E_DECODE (the snapshot holds 8192 entries and 8192 mirrored states; the file schema allows 4096):
    // the coordinator cannot start until an operator moves the file aside.
    expect(() => again.load()).not.toThrow();
  });
});
