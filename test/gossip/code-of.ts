import { isElexError } from '../../src/core/index.js';

/** The typed code `f` throws, undefined if it returns, or `untyped: …` for any other error. */
export function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isElexError(e) ? e.code : `untyped: ${String(e)}`;
  }
}
