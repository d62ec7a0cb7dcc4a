import cliProgress from 'cli-progress';

/** Progress on stderr: a bar on a TTY, plain lines (at most one per ~10 %) otherwise. Results go to stdout. */
export interface Progress {
  update(done: number, total: number, note?: string): void;
  stop(): void;
}

export function progress(label: string, quiet = false): Progress {
  if (quiet) return { update() {}, stop() {} };
  if (process.stderr.isTTY) {
    const bar = new cliProgress.SingleBar(
      {
        format: `${label} [{bar}] {percentage}% {value}/{total} {note}`,
        stream: process.stderr,
        // Leave the terminal's modes alone: a run is synchronous, so a Ctrl-C kills the process before any
        // handler could show a hidden cursor or turn line wrapping back on (the bar trims itself instead).
        hideCursor: false,
        linewrap: true,
      },
      cliProgress.Presets.shades_classic,
    );
    let started = false;
    return {
      update(done, total, note = '') {
        if (!started) {
          bar.start(total, 0, { note });
          started = true;
        }
        bar.setTotal(total);
        bar.update(done, { note });
      },
      stop() {
        if (started) bar.stop();
      },
    };
  }
  let lastDecile = -1;
  return {
    update(done, total, note = '') {
      const decile = total > 0 ? Math.floor((done / total) * 10) : 10;
      if (decile === lastDecile) return;
      lastDecile = decile;
      process.stderr.write(`${label}: ${done}/${total}${note ? ` ${note}` : ''}\n`);
    },
    stop() {},
  };
}
