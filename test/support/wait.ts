/** Polls `cond` every `everyMs` until it holds; fails after `ms`, with `what()` in the message when given. */
export async function waitUntil(
  cond: () => boolean,
  ms: number,
  what?: () => string,
  everyMs = 20,
): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end)
      throw new Error(what === undefined ? 'condition not reached' : `condition not reached: ${what()}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
