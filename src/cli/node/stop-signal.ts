/**
 * Resolves on the first SIGINT or SIGTERM. Call it before printing a command's ready line: a listener installed
 * after it let a supervisor that stops the process at once kill it by the signal's default action (no leave,
 * nothing saved). A second signal during the graceful stop forces an exit (status 130), as a second Ctrl-C does.
 */
export function untilStopSignal(onForced: (signal: string) => void = () => {}): Promise<string> {
  return new Promise((resolve) => {
    let stopping = false;
    const on = (signal: NodeJS.Signals) => {
      if (!stopping) {
        stopping = true;
        resolve(signal);
        return;
      }
      onForced(signal);
      process.exit(130);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
