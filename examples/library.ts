// The library API in one file: run with `npx tsx examples/library.ts`. A test runs it, so it stays true.
import { ManualClock } from '../src/core/index.js';
import {
  createFederatedQTable,
  encodeState,
  type FederatedQTable,
  federatedSync,
  InMemoryNetwork,
  MapKeyring,
  stateHi,
  stateLo,
} from '../src/learning/index.js';
import { defaultCatalog } from '../src/node/catalog-file.js';
import { Simulator } from '../src/sim/index.js';
import { CoordinatorStateMachine, encodeCommand } from '../src/swarm/index.js';

// 1. The deterministic simulator: nodes, a fault, accounting and a trace hash.
const sim = new Simulator({ seed: 42, link: { profile: 'lan', loss: 0.01 } });
const a = sim.addNode('a', { deliver() {} });
const b = sim.addNode('b', {
  deliver(from) {
    sim.send(b, from, 'pong', 'pong', 16);
  },
});
sim.send(a, b, 'ping', 'ping', 16);
sim.partition({ kind: 'asymmetric', from: [b], to: [a] }); // b's pong never arrives
sim.runFor(1_000);
console.log('simulator', sim.traceHash(), sim.accounting.summary().dropped);

// 2. The coordinator's control plane, as a plain state machine (Raft replicates exactly this).
const catalog = defaultCatalog();
const machine = new CoordinatorStateMachine(catalog);
const iflb = catalog.resolve('IFLB'); // by id, FAJ code, acronym or name
const result = machine.apply(
  1,
  encodeCommand({ op: 'activate', feature: iflb.id, with_prerequisites: true, at_ms: 0 }),
);
console.log('activate IFLB', JSON.stringify(result));

// 3. ADR-115's federation API on an in-memory network: learn on one table, sync, the others learn it.
const network = new InMemoryNetwork();
const keyring = new MapKeyring();
const clock = new ManualClock(0);
const ids = ['agent-1', 'agent-2', 'agent-3'];
const tables: FederatedQTable[] = [];
for (const id of ids) {
  tables.push(
    await createFederatedQTable({
      sync_interval_ms: 60_000,
      min_peers_for_consensus: 3,
      byzantine_threshold: 0.33,
      id,
      peers: ids,
      network,
      keyring,
      clock,
      seed: 7,
    }),
  );
}
const state = encodeState({
  queryType: 'parameter',
  complexity: 'simple',
  confidence: 0.8,
  contextHash: 99n,
});
for (let i = 0; i < 10; i++) tables[0].learner.learn(state, 1, 1, null);
const stats = await federatedSync(tables[0]);
for (const t of tables.slice(1)) await federatedSync(t);
console.log('federatedSync', JSON.stringify(stats));
console.log('agent-2 learned q =', tables[1].local_qtable.getQ(stateHi(state), stateLo(state), 1).toFixed(3));
