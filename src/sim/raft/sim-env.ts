import { type HostEnv, type Message, MSG_NAMES, messageSize } from '../../raft/index.js';
import type { Simulator } from '../simulator.js';

/** Node `id`'s world on the simulator: its virtual timers, seeded stream, simulated disk and network. */
export function simHostEnv(sim: Simulator, id: number): HostEnv {
  return {
    disk: sim.disk(id),
    rng: (label) => sim.nodeRng(id).fork(label),
    send: (m: Message) => sim.send(id, m.to, m, MSG_NAMES[m.type], messageSize(m)),
    setTimer: (ms, fn) => sim.setTimer(id, ms, fn),
    fail: () => sim.crash(id),
  };
}
