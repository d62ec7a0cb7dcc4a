export { ByteReader, ByteWriter } from './bytes.js';
export { type Clock, MAX_TIMER_MS, ManualClock } from './clock.js';
export { assert, ElexError, isElexError } from './errors.js';
export { DEFAULT_MAX_FRAME_BYTES, encodeFrame, FrameReader, type FrameReaderOptions } from './frames.js';
export { fnv1a, hashString, TraceHasher } from './hash.js';
export { CounterMetrics, type Metrics, noMetrics } from './metrics.js';
export { deriveSeed, exponential, normal, type Rng, SeededRng, shuffle } from './rng.js';
export type { StateMachine } from './state-machine.js';
export { mean, median, percentile, type Summary, summarize } from './stats.js';
