import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { median } from '../../core/index.js';
import { AUTH_OVERHEAD, ClusterKeyring } from '../../node/cluster-key.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

/** Sizes that matter: a heartbeat or vote, a small append, a full batched append (1,024 entries of 256 B). */
const SIZES = [64, 1024, 300 * 1024];

/** Operations per second of `f` over about `ms` milliseconds. */
function rate(ms: number, f: () => void): number {
  let n = 0;
  const start = performance.now();
  let t = start;
  while (t - start < ms) {
    for (let i = 0; i < 16; i++) f();
    n += 16;
    t = performance.now();
  }
  return n / ((t - start) / 1000);
}

/** `elex bench auth`: what the cluster key costs one message: seal and open rates by message size. */
export function register(bench: Command): void {
  bench
    .command('auth')
    .description('cluster-key authentication (HMAC-SHA256): messages sealed and opened per second by size')
    .option('--ms <n>', 'milliseconds per measurement', intOption(10, 60_000), 300)
    .option('--repeat <n>', 'repetitions; the median is reported', intOption(1, 50), 5)
    .option('--json', 'print one JSON object on stdout (the default)')
    .action((o: { ms: number; repeat: number }) => {
      const ring = ClusterKeyring.of([new Uint8Array(randomBytes(32))]);
      const sizes = SIZES.map((bytes) => {
        const payload = new Uint8Array(randomBytes(bytes));
        const sealed = ring.seal('raft', payload);
        const seal = median(
          Array.from({ length: o.repeat }, () => rate(o.ms, () => ring.seal('raft', payload))),
        );
        const open = median(
          Array.from({ length: o.repeat }, () => rate(o.ms, () => ring.open('raft', sealed))),
        );
        return {
          payload_bytes: bytes,
          seal_per_s: Math.round(seal),
          open_per_s: Math.round(open),
          open_mb_per_s: Math.round((open * bytes) / 1e6),
        };
      });
      printJson({ overhead_bytes: AUTH_OVERHEAD, sizes, ms: o.ms, repeat: o.repeat });
    });
}
