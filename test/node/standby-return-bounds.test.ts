import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isElexError, SeededRng } from '../../src/core/index.js';
import { AgentStore } from '../../src/node/agent-store.js';
import { defaultCatalog } from '../../src/node/catalog-file.js';
import { parseBody } from '../../src/node/http-api.js';
import { hostedAgentId } from '../../src/node/query-service.js';
import { returnBody, StandbyReturn } from '../../src/node/standby-return.js';
import { agentState, FeatureAgent } from '../../src/swarm/agent/index.js';

const root = mkdtempSync(join(tmpdir(), 'elex-return-bounds-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('POST /agents/return body (returnBody)', () => {
  it('a batch whose sequence numbers run past 2^53 − 1 is refused, not stored so that the next start fails', () => {
    const f = defaultCatalog().features[0];
    const file = join(mkdtempSync(join(root, 'p')), 'agents.json');
    const life = () => {
      const agent = new FeatureAgent(hostedAgentId(f.id), f, new SeededRng(1));
      const hosted = new Map([[f.id, agent]]);
      let store: AgentStore | null = null;
      const returns = new StandbyReturn({ hosted, to: null, persist: () => store?.save() !== false });
      store = new AgentStore(file, hosted, 0, returns);
      store.load();
      return returns;
    };
    const state = agentState('kpi', 'simple', true);
    const exp = {
      feature: f.id,
      state: [Number(state >> 32n), Number(state & 0xffffffffn)],
      action: 2,
      reward: 1,
    };
    // `first` is within its schema (≤ 2^53 − 1), but first + 2 is not a safe integer.
    const text = JSON.stringify({ epoch: 'ab12', first: Number.MAX_SAFE_INTEGER, experiences: [exp, exp] });
    let body: ReturnType<typeof returnBody.parse>;
    try {
      body = parseBody(text, returnBody);
    } catch (e) {
      // Refusing the request (400) is a correct outcome.
      expect(isElexError(e) && e.code).toBe('E_BAD_REQUEST');
      return;
    }
    const one = life();
    const reply = one.receive(body);
    // The primary's saved numbers must load again: today the file holds 2^53 (first + 2, rounded) and load()
    // throws E_DECODE, so one accepted request stops the coordinator from starting again.
    expect(() => life()).not.toThrow();
    // And the reply's `next` (where the standby resumes) must be an exact integer.
    expect(Number.isSafeInteger(reply.next)).toBe(true);
  });
});
