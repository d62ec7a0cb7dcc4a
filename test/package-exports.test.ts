import { describe, expect, it } from 'vitest';
import * as pkg from '../src/index.js';

describe("the package's public face", () => {
  it('exports every layer the README names, the node layer included', () => {
    expect(Object.keys(pkg).sort()).toEqual(['core', 'gossip', 'learning', 'node', 'raft', 'sim', 'swarm']);
    // What the README's Library API presents as the node layer (before session 24 none of it was exported).
    for (const f of [
      pkg.node.KvNode.start,
      pkg.node.CoordinatorNode.start,
      pkg.node.GossipMember.start,
      pkg.node.UdpFederationNetwork.bind,
      pkg.node.readClusterKeyring,
      pkg.node.signRequest,
      pkg.node.postSigned,
    ])
      expect(typeof f).toBe('function');
    expect(typeof pkg.node.KvClient).toBe('function');
    expect(typeof pkg.node.FederationMember).toBe('function');
  });
});
