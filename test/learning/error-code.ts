import { isElexError } from '../../src/core/index.js';

/** The typed code `f` throws, or 'ok' if it returns (anything but an ElexError is rethrown). */
export function codeOf(f: () => unknown): string {
  try {
    f();
    return 'ok';
  } catch (e) {
    if (!isElexError(e)) throw e;
    return e.code;
  }
}
