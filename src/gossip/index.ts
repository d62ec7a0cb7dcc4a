/**
 * The gossip core's public face: membership, phi-accrual failure detection and Scuttlebutt dissemination,
 * sans-IO. Drive a `GossipNode` with `tick(now)` and `handle(datagram, now)`; send what they return.
 */

export { type ChannelUpdate, GossipChannels } from './channels.js';
export {
  type ClaimEntry,
  type Delta,
  type DigestEntry,
  decode,
  type ExchangeBody,
  encode,
  LIMITS,
  MAGIC,
  type Message,
  MsgType,
  type Request,
} from './codec.js';
export { DEFAULT_CONFIG, type GossipConfig, makeConfig } from './config.js';
export { GossipDriver } from './driver.js';
export type { GossipEvent, GossipListener, GossipTransport, Outbound } from './events.js';
export {
  CHANNEL_NAMES,
  Channel,
  type ChannelCode,
  type ChannelName,
  type Claim,
  type Liveness,
  Status,
  type StatusCode,
  supersedes,
} from './member.js';
export { GossipNode, type GossipNodeOptions } from './node.js';
export { HeartbeatHistory, type PhiParams, phi, timeToPhi } from './phi-accrual.js';
export { Ring } from './ring.js';
export { suspicionTimeout } from './suspicion.js';
