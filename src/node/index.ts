/**
 * The node layer's public face: the protocol cores on real disks, sockets and clocks, one process each.
 * (The CLI's own plumbing, `processes.ts`, the HTTP route tables and the query service, stays internal.)
 */
export { formatAddress, formatCluster, parseAddress, parseCluster, parseNamedAddresses } from './address.js';
export {
  type AuthContext,
  ClusterKeyring,
  parseClusterKeys,
  readClusterKeyring,
  writeClusterKey,
} from './cluster-key.js';
export {
  type ClientCommand,
  CoordinatorNode,
  type CoordinatorNodeOptions,
  type CoordinatorStatus,
} from './coordinator-node.js';
export { loadIdentity, loadKeyring, writeFederationKeys } from './federation-keys.js';
export { FederationMember, type FederationMemberOptions } from './federation-member.js';
export { FileDisk, type FileDiskOptions, type FileDiskRecovery } from './file-disk.js';
export { GossipMember, type GossipMemberOptions, type UdpStats } from './gossip-member.js';
export { KvClient, type KvClientOptions, type KvWriteResult } from './kv-client.js';
export { KvNode, type KvNodeOptions, type KvNodeStatus } from './kv-node.js';
export { type RealEnvOptions, realHostEnv } from './real-env.js';
export { postSigned, type SignedRequest, signRequest } from './signed-request.js';
export {
  type Address,
  TcpTransport,
  type TcpTransportOptions,
  type TransportStats,
} from './tcp-transport.js';
export {
  UdpFederationNetwork,
  type UdpFederationOptions,
  type UdpFederationStats,
} from './udp-federation.js';
