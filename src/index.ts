/**
 * The `elex-swarm` package: each layer's public face. Protocol cores (raft, gossip, learning, swarm) are
 * pure; the simulator drives them deterministically; `node` runs them in a process on real disks and sockets.
 */
export * as core from './core/index.js';
export * as gossip from './gossip/index.js';
export * as learning from './learning/index.js';
export * as node from './node/index.js';
export * as raft from './raft/index.js';
export * as sim from './sim/index.js';
export * as swarm from './swarm/index.js';
