import { ElexError } from './errors.js';

/**
 * Length-prefixed framing for a byte stream (TCP): a u32 little-endian payload length, then the payload.
 * Pure: the transport pushes whatever chunks it reads and gets whole frames back.
 */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024;
const HEADER = 4;

export function encodeFrame(payload: Uint8Array): Uint8Array {
  if (payload.length > 0xffffffff)
    throw new ElexError('E_FRAME', `payload of ${payload.length} bytes too long`);
  const out = new Uint8Array(HEADER + payload.length);
  new DataView(out.buffer).setUint32(0, payload.length, true);
  out.set(payload, HEADER);
  return out;
}

export interface FrameReaderOptions {
  /** Largest declared payload length accepted (default 64 MiB); above it the stream is refused. */
  maxFrameBytes?: number;
}

/**
 * Splits a byte stream into frames. Chunks may cut a frame anywhere (inside the length prefix too) and may
 * hold many frames. Returned frames are fresh arrays the caller owns, and no chunk is retained after `push`
 * returns, so a transport may reuse its read buffer. A frame split over many chunks is copied once when
 * complete (not re-concatenated per chunk), so big frames cost linear time.
 */
export class FrameReader {
  private maxFrameBytes: number;
  private readonly header = new Uint8Array(HEADER);
  private headerLen = 0;
  /** Payload length of the frame being read, or -1 while its header is incomplete. */
  private need = -1;
  private parts: Uint8Array[] = [];
  private have = 0;
  private failure: ElexError | null = null;

  constructor(options: FrameReaderOptions = {}) {
    this.maxFrameBytes = checkMax(options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES);
  }

  /** Changes the limit for every frame whose length prefix is not read yet (one under way keeps its own). */
  setMaxFrameBytes(max: number): void {
    this.maxFrameBytes = checkMax(max);
  }

  /** Bytes held for an incomplete frame (header included): non-zero at end of stream means a cut frame. */
  get buffered(): number {
    return this.headerLen + (this.need < 0 ? 0 : HEADER) + this.have;
  }

  /**
   * Feeds a chunk; returns every frame it completes, in order. An oversized declared length throws `E_FRAME`
   * and poisons the reader (every later push throws the same error): past a bad header the stream has no
   * trustworthy frame boundary. Frames completed earlier in the same chunk are lost with it; the connection
   * is to be dropped anyway.
   */
  push(chunk: Uint8Array): Uint8Array[] {
    return this.read(chunk, Number.POSITIVE_INFINITY).frames;
  }

  /**
   * `push` that stops after the first frame it completes: the frame (null if the chunk ended first) and how
   * many bytes of `chunk` it used. The caller can decide on that frame, say by changing the limit, before it
   * pushes the rest.
   */
  pushOne(chunk: Uint8Array): { frame: Uint8Array | null; used: number } {
    const { frames, used } = this.read(chunk, 1);
    return { frame: frames[0] ?? null, used };
  }

  private read(chunk: Uint8Array, most: number): { frames: Uint8Array[]; used: number } {
    if (this.failure !== null) throw this.failure;
    const out: Uint8Array[] = [];
    let at = 0;
    while (out.length < most) {
      if (this.need < 0) {
        const take = Math.min(HEADER - this.headerLen, chunk.length - at);
        this.header.set(chunk.subarray(at, at + take), this.headerLen);
        this.headerLen += take;
        at += take;
        if (this.headerLen < HEADER) break;
        this.headerLen = 0;
        const n = new DataView(this.header.buffer).getUint32(0, true);
        if (n > this.maxFrameBytes) {
          this.failure = new ElexError('E_FRAME', `frame of ${n} bytes exceeds ${this.maxFrameBytes}`);
          throw this.failure;
        }
        this.need = n;
      }
      const take = Math.min(this.need - this.have, chunk.length - at);
      if (this.have === 0 && take === this.need) {
        // Whole payload in this chunk: one copy, no part list.
        out.push(copy(chunk, at, at + take));
        at += take;
        this.need = -1;
        continue;
      }
      if (take > 0) {
        this.parts.push(copy(chunk, at, at + take));
        this.have += take;
        at += take;
      }
      if (this.have < this.need) break;
      out.push(concat(this.parts, this.need));
      this.parts = [];
      this.have = 0;
      this.need = -1;
    }
    return { frames: out, used: at };
  }
}

function checkMax(max: number): number {
  if (!Number.isInteger(max) || max < 0) throw new ElexError('E_FRAME', `bad maxFrameBytes ${max}`);
  return max;
}

// Not chunk.slice: on a Node Buffer that is a view into the transport's buffer, not a copy.
function copy(chunk: Uint8Array, from: number, to: number): Uint8Array {
  return new Uint8Array(chunk.subarray(from, to));
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
