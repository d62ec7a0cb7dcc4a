import type { Command } from 'commander';
import { ElexError } from '../../core/index.js';
import { benchRaft } from '../../sim/raft/bench.js';
import { intOption } from '../options.js';
import { printJson } from '../output.js';

/** `elex bench raft`: the Raft core alone, in one process (zero-latency network, no disk, batching on). */
export function register(bench: Command): void {
  bench
    .command('raft')
    .description('Raft core throughput and commit latency with 3 and 14 voters (in-memory network, no disk)')
    .option('--entries <n>', 'entries committed per measurement', intOption(1000, 100_000_000), 1_000_000)
    .option('--entry-bytes <n>', 'payload bytes per entry', intOption(1, 1 << 20), 256)
    .option('--batch <n>', 'proposals per batch', intOption(1, 65536), 1024)
    .option('--repeat <n>', 'repetitions; the median throughput is reported', intOption(1, 20), 3)
    .option('--json', 'print one JSON object on stdout (the default)')
    .action((o: { entries: number; entryBytes: number; batch: number; repeat: number }) => {
      // Between compactions (every 10,000 applied) the log holds up to 10,000 + batch entries, beside 1,024
      // preallocated payloads: refuse what would not fit rather than die of an out-of-memory error minutes in.
      const held = o.entryBytes * (10_000 + o.batch + 1024);
      if (held > 2 ** 30)
        throw new ElexError(
          'E_USAGE',
          `--entry-bytes × --batch would hold about ${(held / 2 ** 30).toFixed(1)} GiB of log in memory (at most 1 GiB)`,
        );
      const run = (nodes: number) => {
        const rs = Array.from({ length: o.repeat }, () =>
          benchRaft({
            nodes,
            entries: nodes > 5 ? Math.ceil(o.entries / 3) : o.entries,
            entryBytes: o.entryBytes,
            batch: o.batch,
          }),
        );
        rs.sort((a, b) => a.entries_per_s - b.entries_per_s);
        const m = rs[Math.floor(rs.length / 2)];
        return {
          entries_per_s: m.entries_per_s,
          p50_commit_ms: m.p50_commit_ms,
          p99_commit_ms: m.p99_commit_ms,
          wire: m.wire_bytes_per_entry,
        };
      };
      const three = run(3);
      const fourteen = run(14);
      printJson({
        three_node: {
          entries_per_s: three.entries_per_s,
          p50_commit_ms: three.p50_commit_ms,
          p99_commit_ms: three.p99_commit_ms,
        },
        fourteen_node: {
          entries_per_s: fourteen.entries_per_s,
          p50_commit_ms: fourteen.p50_commit_ms,
          p99_commit_ms: fourteen.p99_commit_ms,
        },
        // Wire bytes one follower receives per replicated entry (payload + entry header + amortized App header).
        bytes_per_log_entry: three.wire,
        entry_bytes: o.entryBytes,
        batch: o.batch,
        targets: { three_node_entries_per_s: 250_000, fourteen_node_entries_per_s: 60_000 },
      });
    });
}
