import { hashString } from '../core/index.js';

/** Wire codes of member statuses; the order is the precedence at equal (generation, incarnation). */
export const Status = { alive: 0, suspect: 1, dead: 2, left: 3 } as const;
export type StatusCode = (typeof Status)[keyof typeof Status];
export type Liveness = 'alive' | 'suspect' | 'dead' | 'left' | 'unknown';
export const STATUS_NAMES: readonly Liveness[] = ['alive', 'suspect', 'dead', 'left'];

export function isTerminal(s: StatusCode): boolean {
  return s >= Status.dead;
}

/** The identity-and-status triple every membership claim carries. */
export interface Claim {
  /** Generation: one per process start (a restart is a new member instance). */
  gen: number;
  /** Incarnation within the generation: bumped by the member itself to refute suspicion or death. */
  inc: number;
  status: StatusCode;
}

/**
 * Does `incoming` override `local`? (gen, inc, status) compared lexicographically. This single rule gives
 * SWIM's semantics and the no-resurrection invariant: a dead or left member at (g, i) can only be overridden
 * by a claim at a higher incarnation of the same generation (the member refuted) or a new generation (it
 * restarted); an alive or suspect claim at (g, <= i) never wins (memberlist PR 345, chitchat issue 161).
 * Failure evidence at a higher incarnation also wins, so the stored incarnation is monotone.
 */
export function supersedes(incoming: Claim, local: Claim): boolean {
  if (incoming.gen !== local.gen) return incoming.gen > local.gen;
  if (incoming.inc !== local.inc) return incoming.inc > local.inc;
  return incoming.status > local.status;
}

/** Compares two (gen, inc) pairs: negative, zero or positive. */
export function compareIncarnation(aGen: number, aInc: number, bGen: number, bInc: number): number {
  return aGen !== bGen ? aGen - bGen : aInc - bInc;
}

/** The three typed channels of per-member state. */
export const Channel = { health: 0, state: 1, pattern: 2 } as const;
export type ChannelCode = (typeof Channel)[keyof typeof Channel];
export const CHANNEL_NAMES = ['health', 'state', 'pattern'] as const;
export type ChannelName = (typeof CHANNEL_NAMES)[number];

export interface KeyEntry {
  channel: ChannelCode;
  key: string;
  version: number;
  value: Uint8Array;
}

/** What one member knows about another (or itself). */
export interface Member extends Claim {
  name: string;
  /** Highest key version known (Scuttlebutt: everything up to it is known, as a prefix). */
  maxVersion: number;
  /** Keys by `channel/key`. */
  keys: Map<string, KeyEntry>;
  /** Local time the claim or the keys last changed (feeds the SYN's recent digest). */
  changedAt: number;
  /** Local time a tombstone is forgotten (terminal statuses only). */
  expiresAt: number;
  /** Digest bucket and the entry hash currently added to it. */
  bucket: number;
  hashLo: number;
  hashHi: number;
  /** Position on the monitoring ring (hash of the name). */
  ringPos: number;
}

export function keyId(channel: ChannelCode, key: string): string {
  return `${channel}/${key}`;
}

export function ringPosition(name: string): number {
  return (hashString(name, 0x5eed) % 4294967296) >>> 0;
}

export function bucketOf(name: string, buckets: number): number {
  return hashString(name, 0xb0c) % buckets;
}
