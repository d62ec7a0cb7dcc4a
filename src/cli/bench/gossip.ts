import type { Command } from 'commander';
import { benchGossip } from '../../sim/gossip/bench.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

/** `elex bench gossip`: one member's core throughput per message kind, and the codec's. */
export function register(bench: Command): void {
  bench
    .command('gossip')
    .description("messages handled per second by one member's gossip core, and codec throughput")
    .option('--members <n>', 'members the benchmarked core knows', intOption(3, 10_000), 607)
    .option('--messages <n>', 'messages per measurement', intOption(1000, 100_000_000), 200_000)
    .option('--repeat <n>', 'repetitions; the median is reported', intOption(1, 50), 3)
    .option('--json', 'print one JSON object on stdout (the default)')
    .action((o: { members: number; messages: number; repeat: number; json?: boolean }) => {
      const started = performance.now();
      const r = benchGossip(o);
      printJson({ ...r, perf: { wall_ms: Math.round(performance.now() - started) } });
    });
}
