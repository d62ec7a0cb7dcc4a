import type { Command } from 'commander';
import { writeClusterKey } from '../../node/cluster-key.js';

/** `elex cluster-key`: a fresh key file for `--cluster-key`. */
export function register(program: Command): void {
  program
    .command('cluster-key')
    .description(
      'write a fresh random cluster key (32 bytes, hex) to a new file readable by its owner only, for ' +
        '`--cluster-key` of elex node, coordinator and member; never overwrites a file',
    )
    .requiredOption('--out <file>', 'the key file to create')
    .addHelpText(
      'after',
      '\nA key file holds one key per line; the first seals, every one is accepted. To rotate without downtime:\n' +
        'append the new key on every member and restart each, move it to the first line on every member and\n' +
        'restart each, then remove the old line the same way.',
    )
    .action((o: { out: string }) => {
      writeClusterKey(o.out);
      process.stdout.write(`${JSON.stringify({ event: 'written', file: o.out })}\n`);
    });
}
