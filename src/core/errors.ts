/** Every error the library raises carries a stable machine-readable `code` and a human message. */
export class ElexError extends Error {
  readonly code: string;
  readonly detail: Readonly<Record<string, unknown>> | undefined;

  constructor(code: string, message: string, detail?: Record<string, unknown>) {
    super(message);
    this.name = 'ElexError';
    this.code = code;
    this.detail = detail;
  }
}

export function isElexError(e: unknown): e is ElexError {
  return e instanceof ElexError;
}

/** Throws an `E_ASSERT` error: for invariants that must hold (TigerBeetle-style assertions everywhere). */
export function assert(cond: unknown, message: string, detail?: Record<string, unknown>): asserts cond {
  if (!cond) throw new ElexError('E_ASSERT', message, detail);
}
