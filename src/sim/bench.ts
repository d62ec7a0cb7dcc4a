import { Simulator } from './simulator.js';

export interface SimBenchResult {
  events_per_s: number;
  events: number;
  nodes: number;
  in_flight_per_node: number;
  wall_ms: number;
}

/**
 * Ping-pong among `nodes` simulated nodes: each node keeps `inFlight` messages bouncing to random peers.
 * Measures the simulator alone (event queue, network model, accounting), the cost every scenario pays.
 */
export function benchSim(
  opts: { nodes?: number; events?: number; inFlight?: number; seed?: number } = {},
): SimBenchResult {
  const nodes = opts.nodes ?? 600;
  const target = opts.events ?? 2_000_000;
  const inFlight = opts.inFlight ?? 1;
  const sim = new Simulator({ seed: opts.seed ?? 1, link: { profile: 'lan' } });
  const rng = sim.rng('bench');
  const payload = { kind: 'ping' };
  for (let i = 0; i < nodes; i++) {
    const self = i;
    sim.addNode(`n${i}`, {
      deliver(from) {
        // Reply to the sender half the time, otherwise to a random peer: traffic spreads over links.
        const to = rng.next() < 0.5 ? from : rng.int(nodes);
        sim.send(self, to === self ? (self + 1) % nodes : to, payload, 'ping', 64);
      },
    });
  }
  for (let i = 0; i < nodes; i++)
    for (let k = 0; k < inFlight; k++) sim.send(i, (i + 1 + k) % nodes, payload, 'ping', 64);
  const start = performance.now();
  while (sim.eventsProcessed < target) sim.runFor(1);
  const wall = performance.now() - start;
  return {
    events_per_s: Math.round(sim.eventsProcessed / (wall / 1000)),
    events: sim.eventsProcessed,
    nodes,
    in_flight_per_node: inFlight,
    wall_ms: Math.round(wall),
  };
}
