/**
 * One inbound connection of `TcpTransport`: frames read and handed on, acknowledged to a peer, and a stranger
 * (a connection that has not yet delivered a message) held to a deadline and a smaller frame limit.
 */
import type { Socket } from 'node:net';
import { FrameReader, isElexError } from '../core/index.js';

/** The byte a receiver writes back for each frame a peer's connection carried (`TcpTransportOptions.stallMs`). */
export const FRAME_ACK = 0x06;

export type FrameVerdict = 'delivered' | 'refused' | 'unauthenticated';

export interface InboundOptions {
  maxFrameBytes: number;
  /** The frame limit until the connection has delivered a message. */
  maxFirstFrameBytes: number;
  /** How long the connection has to deliver its first message before it is closed. */
  handshakeTimeoutMs: number;
  /** Decodes, checks and delivers one frame. */
  receive(frame: Uint8Array): FrameVerdict;
  /** Checks a stranger's frame instead of `receive` (a keyed transport's hello): 'delivered' makes it known. */
  receiveFirst?(frame: Uint8Array): FrameVerdict;
  /** Counts a refusal by reason. */
  refuse(code: string): void;
  /** The connection delivered its first message: it is a stranger no more. */
  known(): void;
  bytesIn(n: number): void;
  closed(): void;
}

/**
 * Reads `s` until it closes. Until it delivers a message, a connection is a stranger: it gets a deadline to
 * prove itself, so a silent or babbling one cannot hold a slot for ever, and a smaller frame limit, so it
 * cannot make us buffer much. Strangers get nothing back; a peer's frames are acknowledged, one byte each.
 */
export function readInbound(s: Socket, o: InboundOptions): void {
  let stranger = true;
  const frames = new FrameReader({ maxFrameBytes: Math.min(o.maxFrameBytes, o.maxFirstFrameBytes) });
  const deadline = setTimeout(() => {
    o.refuse('E_HANDSHAKE_TIMEOUT');
    s.destroy();
  }, o.handshakeTimeoutMs);
  const known = () => {
    stranger = false;
    clearTimeout(deadline);
    frames.setMaxFrameBytes(o.maxFrameBytes);
    o.known();
  };
  s.on('data', (chunk: Buffer) => {
    o.bytesIn(chunk.length);
    const read = readChunk(s, chunk, frames, o, known, () => stranger);
    // One byte back per frame a peer's connection carried: the sender's proof that it still carries them.
    if (read > 0 && !s.destroyed) s.write(Buffer.alloc(read, FRAME_ACK));
  });
  s.on('error', () => {});
  s.on('close', () => {
    clearTimeout(deadline);
    o.closed();
  });
}

/** The frames of one chunk, delivered; returns how many to acknowledge (none once the connection is closed). */
function readChunk(
  s: Socket,
  chunk: Uint8Array,
  frames: FrameReader,
  o: InboundOptions,
  known: () => void,
  stranger: () => boolean,
): number {
  let read = 0;
  let rest = chunk;
  // A stranger's frames are read one at a time, so the limit is lifted right after the frame that made it
  // known: the frames after that one in the same chunk are read under the full limit.
  while (stranger()) {
    const one = unframe(s, o, () => frames.pushOne(rest));
    if (one === null) return 0;
    if (one.frame === null) return read;
    rest = rest.subarray(one.used);
    const verdict = (o.receiveFirst ?? o.receive)(one.frame);
    if (verdict === 'unauthenticated') {
      s.destroy(); // a peer without the key is not a peer: nothing more is read from it
      return 0;
    }
    // Only the frame that made the connection known is acknowledged among a stranger's.
    if (verdict === 'delivered') {
      read++;
      known();
    }
  }
  for (const p of unframe(s, o, () => frames.push(rest)) ?? []) {
    if (o.receive(p) === 'unauthenticated') {
      s.destroy();
      return 0;
    }
    read++;
  }
  return read;
}

/** `read()`, or null when the framing is lost: nothing after it can be trusted, so the connection goes. */
function unframe<T>(s: Socket, o: InboundOptions, read: () => T): T | null {
  try {
    return read();
  } catch (e) {
    o.refuse(isElexError(e) ? e.code : 'E_FRAME');
    s.destroy();
    return null;
  }
}
