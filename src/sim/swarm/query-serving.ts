import type { Complexity } from '../../learning/index.js';
import type { AgentAnswer, ControlView } from '../../swarm/agent/index.js';
import type { CoordinatorReplica } from '../../swarm/index.js';
import {
  aggregateByConfidence,
  chooseAgent,
  extractTargets,
  type SwarmQuery,
} from '../../swarm/routing/index.js';
import type { Simulator } from '../simulator.js';
import type { LivenessView } from './liveness.js';
import { answerBytes, fail, type Msg, type PartResult, sendMsg } from './messages.js';
import type { SwarmTopology } from './topology.js';

interface Part {
  finish: (p: PartResult) => void;
}

/**
 * Queries at the coordinators. The coordinator a query reaches splits its target features by category,
 * serves its own category's part with its agents and asks the other categories' coordinators for theirs, then
 * aggregates the answers by confidence. An agent's answer carries the Raft index of the control-plane state it
 * was given.
 */
export class QueryServing {
  /** A coordinator's asks to its agents awaiting an answer, by key. */
  private readonly asks: Map<number, (a: AgentAnswer | null) => void>[];
  /** A coordinator's parts of a query sent to other coordinators, by key. */
  private readonly subs: Map<number, Part>[];
  private nextKey = 1;

  constructor(
    private readonly sim: Simulator,
    private readonly topo: SwarmTopology,
    private readonly replicas: readonly CoordinatorReplica[],
    private readonly liveness: LivenessView,
  ) {
    this.asks = Array.from({ length: topo.C }, () => new Map());
    this.subs = Array.from({ length: topo.C }, () => new Map());
  }

  /** Coordinator c restarted: whatever it was waiting for is lost. */
  clear(c: number): void {
    this.asks[c].clear();
    this.subs[c].clear();
  }

  /** An agent answered coordinator c's ask `key`. */
  answer(c: number, key: number, answer: AgentAnswer): void {
    const w = this.asks[c].get(key);
    if (w) {
      this.asks[c].delete(key);
      w(answer);
    }
  }

  /** Another coordinator served coordinator c's part `key`. */
  subReply(c: number, key: number, part: PartResult): void {
    const p = this.subs[c].get(key);
    if (p) {
      this.subs[c].delete(key);
      p.finish(part);
    }
  }

  /** Coordinator c serves, for coordinator `from`, the part of a query in its category. */
  sub(c: number, from: number, m: Msg & { k: 'sub' }): void {
    this.serveLocal(c, m.q, m.complexity, m.features, m.barrier, (part) =>
      sendMsg(this.sim, c, from, { k: 'sub-reply', key: m.key, part }, 64 + part.answers.length * 160),
    );
  }

  /** Coordinator c serves the client's query `q` and replies to `from`. */
  query(c: number, from: number, q: SwarmQuery, complexity: Complexity): void {
    const { sim, topo, replicas } = this;
    const cat = topo.catalog;
    const reply = (p: PartResult, raftIndex: number) =>
      sendMsg(
        sim,
        c,
        from,
        { k: 'reply', id: q.id, ok: p.ok, reason: p.reason, answers: p.answers, raftIndex },
        64 + p.answers.reduce((s, a) => s + answerBytes(a), 0),
      );
    const t = extractTargets(cat, q);
    if (t.features.length === 0) {
      reply(fail('NO_TARGET'), 0);
      return;
    }
    const byCat = new Map<number, string[]>();
    for (const f of t.features) {
      const ci = topo.catIndex.get(cat.get(f)!.category)!;
      const list = byCat.get(ci);
      if (list) list.push(f);
      else byCat.set(ci, [f]);
    }
    // Dispatch one part per category to its coordinator (ourselves included), gather, aggregate.
    const dispatch = (barrier: number, done: (results: PartResult[]) => void) => {
      // Liveness as of the dispatch (after the ReadIndex), not of the query's arrival.
      const now = sim.localTime(c);
      const results: PartResult[] = [];
      let remaining = byCat.size;
      let finished = false;
      const got = (p: PartResult) => {
        if (finished) return;
        results.push(p);
        if (!p.ok || --remaining === 0) {
          finished = true;
          done(p.ok ? results : [p]);
        }
      };
      for (const [ci, feats] of [...byCat].sort((a, b) => a[0] - b[0])) {
        if (ci === c) {
          this.serveLocal(c, q, complexity, feats, barrier, got);
          if (finished) return; // failed at once: the client has its answer, ask nobody else
          continue;
        }
        if (!this.liveness.isAlive(c, ci, now)) {
          got(fail('COORDINATOR_DOWN'));
          if (finished) return;
          continue;
        }
        const key = this.nextKey++;
        const part: Part = { finish: got };
        this.subs[c].set(key, part);
        const inc = replicas[c].incarnation;
        sim.setTimer(c, 1200, () => {
          if (replicas[c].incarnation !== inc) return;
          if (this.subs[c].delete(key)) got(fail('SUB_TIMEOUT'));
        });
        sendMsg(
          sim,
          c,
          ci,
          { k: 'sub', key, q, complexity, features: feats, barrier },
          96 + 16 * feats.length,
        );
      }
    };
    const finishWith = (results: PartResult[], barrier: number) => {
      const failed = results.find((r) => !r.ok);
      if (failed) return reply(failed, barrier);
      const all = results.flatMap((r) => r.answers);
      const agg = aggregateByConfidence(all);
      reply({ ok: true, answers: agg.answers }, Math.max(barrier, agg.raftIndex));
    };
    if (byCat.size === 1) {
      dispatch(0, (rs) => finishWith(rs, 0));
      return;
    }
    // Cross-category: a ReadIndex fixes the control-plane state every part must have applied.
    const rep = replicas[c];
    const inc = rep.incarnation;
    let settled = false;
    const forget = rep.readIndexOrForget((index) => {
      if (settled || rep.incarnation !== inc) return;
      settled = true;
      dispatch(index, (rs) => finishWith(rs, index));
    });
    if (forget === false) {
      reply(fail('NO_LEADER'), 0);
      return;
    }
    sim.setTimer(c, 1000, () => {
      if (settled || rep.incarnation !== inc) return;
      settled = true;
      forget(); // Raft drops unconfirmed reads on a role change without telling: the replica must not keep it
      reply(fail('READ_INDEX_TIMEOUT'), 0);
    });
  }

  /** Serves a part of a query with this coordinator's agents once its replica has applied `barrier`. */
  private serveLocal(
    c: number,
    q: SwarmQuery,
    complexity: Complexity,
    features: string[],
    barrier: number,
    done: (p: PartResult) => void,
  ): void {
    const { sim, topo } = this;
    const rep = this.replicas[c];
    if (!rep.up) return;
    let finished = false;
    const finish = (p: PartResult) => {
      if (finished) return;
      finished = true;
      done(p);
    };
    const inc = rep.incarnation;
    sim.setTimer(c, 800, () => {
      if (rep.incarnation === inc) finish(fail('BARRIER_TIMEOUT'));
    });
    rep.whenApplied(barrier, (index) => {
      if (finished) return;
      const m = rep.machine;
      const answers: AgentAnswer[] = [];
      let remaining = features.length;
      // Read when each agent is chosen: a retry 300 ms later must see the detector's verdicts since.
      const alive = (n: number) =>
        this.liveness.isAlive(c, n, sim.localTime(c)) && m.agent(topo.nodeName(n)) !== undefined;
      for (const f of features) {
        const own = topo.featureNode.get(f)!;
        const tried = new Set<number>();
        const view: ControlView = { active: m.isActive(f), values: m.valuesOf(f), raftIndex: index };
        const ask = (attempt: number) => {
          const choice = chooseAgent(own, topo.categoryAgents[c], alive, q.id + attempt, tried);
          if (choice === null) {
            finish(fail(attempt === 0 ? 'NO_LIVE_AGENT' : 'AGENT_TIMEOUT'));
            return;
          }
          tried.add(choice.agent);
          const key = this.nextKey++;
          this.asks[c].set(key, (ans) => {
            if (finished) return;
            if (ans === null) {
              if (attempt < 1) ask(attempt + 1);
              else finish(fail('AGENT_TIMEOUT'));
              return;
            }
            answers.push(ans);
            if (--remaining === 0) finish({ ok: true, answers });
          });
          sim.setTimer(c, 300, () => {
            const w = this.asks[c].get(key);
            if (w !== undefined) {
              this.asks[c].delete(key);
              w(null);
            }
          });
          sendMsg(
            sim,
            c,
            choice.agent,
            { k: 'ask', key, queryId: q.id, type: q.type, complexity, feature: f, view },
            96 + f.length,
          );
        };
        ask(0);
        if (finished) return;
      }
    });
  }
}
