#!/usr/bin/env node
// The `elex` command. Runs the TypeScript sources through tsx's loader so a checkout works right after `npm ci`.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

// The simulator allocates short-lived objects per datagram (decoded messages, outbound lists): a 64 MB young
// generation instead of V8's default 16 MB scavenges far less often (~9 % of a swarm hour's wall time). V8
// takes the flag only at start-up, so the command re-runs itself once with it.
const YOUNG = '--max-semi-space-size=64';
if (!process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) {
  // Termination signals go to the child too: `kill <pid>` or a supervisor's SIGTERM reaches only this process,
  // and the child would run on as an orphan. (A terminal's Ctrl-C reaches both; a second SIGINT is harmless.)
  // Installed before the spawn: a signal arriving between the fork and the handlers used to kill this process
  // by default and orphan the child. A handler runs as an event, after this block has set `child`.
  let child;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child = spawn(
    process.execPath,
    [...process.execArgv, YOUNG, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    // SIGKILL cannot be forwarded: the child, told this process's pid, stops itself when it is re-parented.
    { stdio: 'inherit', env: { ...process.env, ELEX_WRAPPED: String(process.pid) } },
  );
  child.on('error', (e) => {
    console.error(`elex: cannot start node: ${e.message}`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    if (signal === null) process.exit(code ?? 0);
    // Die of the same signal, so a caller sees what the child saw.
    process.removeAllListeners(signal);
    process.kill(process.pid, signal);
  });
} else {
  const wrapper = Number(process.env.ELEX_WRAPPED);
  if (Number.isInteger(wrapper) && wrapper > 0) {
    // Run by the wrapper above (its pid). Not passed on: a process this one starts is not the wrapper's child.
    delete process.env.ELEX_WRAPPED;
    // The wrapper's death, even of SIGKILL, re-parents this process. A thread with its own event loop watches
    // for that, since a synchronous simulation reads no events of its own for its whole run. It checks at
    // once too: the wrapper may have died before this process started.
    const watchdog = new Worker(
      `const { workerData: wrapper } = require('node:worker_threads');
       const check = () => { if (process.ppid !== wrapper) process.kill(process.pid, 'SIGKILL'); };
       check();
       setInterval(check, 200);`,
      { eval: true, workerData: wrapper },
    );
    watchdog.unref();
  }
  let tsx;
  try {
    tsx = await import('tsx/esm/api');
  } catch (e) {
    // A fresh checkout before `npm ci`: say so instead of printing Node's resolution stack trace.
    if (e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
    console.error(
      "elex: the dependencies are not installed (cannot find 'tsx'): run `npm ci` in the checkout first",
    );
    process.exit(1);
  }
  tsx.register();
  const here = dirname(fileURLToPath(import.meta.url));
  const { main } = await import(pathToFileURL(join(here, '..', 'src', 'cli', 'main.ts')).href);
  process.exitCode = await main(process.argv);
}
