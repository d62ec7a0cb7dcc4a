#!/usr/bin/env node
// The `elex` command. Runs the TypeScript sources through tsx's loader so a checkout works right after `npm ci`.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// The simulator allocates short-lived objects per datagram (decoded messages, outbound lists): a 64 MB young
// generation instead of V8's default 16 MB scavenges far less often (~9 % of a swarm hour's wall time). V8
// takes the flag only at start-up, so the command re-runs itself once with it.
const YOUNG = '--max-semi-space-size=64';
if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
  const r = spawnSync(
    process.execPath,
    [...process.execArgv, YOUNG, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    {
      stdio: 'inherit',
    },
  );
  if (r.error) throw r.error;
  process.exit(r.status ?? (r.signal ? 1 : 0));
}

const { register } = await import('tsx/esm/api');
register();
const here = dirname(fileURLToPath(import.meta.url));
const { main } = await import(pathToFileURL(join(here, '..', 'src', 'cli', 'main.ts')).href);
process.exitCode = await main(process.argv);
