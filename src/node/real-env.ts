import { randomBytes } from 'node:crypto';
import { SeededRng } from '../core/index.js';
import type { Disk, HostEnv, Message } from '../raft/index.js';

export interface RealEnvOptions {
  disk: Disk;
  send(m: Message): void;
  /** An assertion failed inside the node: its state can no longer be trusted. The default logs it and exits. */
  fail?: (e: unknown) => void;
  /** Seed of the node's random streams (default: 32 random bits from the OS, so no two processes agree). */
  seed?: number;
}

/** A host's world in a real process: wall-clock timers, an OS-seeded random stream, a real disk and network. */
export function realHostEnv(o: RealEnvOptions): HostEnv {
  const root = new SeededRng(o.seed ?? randomBytes(4).readInt32LE(0));
  return {
    disk: o.disk,
    rng: (label) => root.fork(label),
    send: o.send,
    setTimer: (ms, fn) => {
      setTimeout(fn, ms);
    },
    fail:
      o.fail ??
      ((e) => {
        console.error(
          `elex node: stopping after a failed assertion: ${e instanceof Error ? e.message : String(e)}`,
        );
        process.exit(70);
      }),
  };
}
