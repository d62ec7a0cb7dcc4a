import { InvalidArgumentError, Option } from 'commander';
import { MAX_TIMER_MS } from '../core/index.js';

/** Option parsers that refuse bad input with a one-line reason (commander turns it into exit code 2). */
export function intOption(min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`expected an integer, got '${value}'`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}

export function floatOption(min = -Infinity, max = Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n))
      throw new InvalidArgumentError(`expected a number, got '${value}'`);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${min}..${max}, got ${n}`);
    return n;
  };
}

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;

/** Durations like `500ms`, `30s`, `10m`, `1h`, or a bare number of milliseconds. Returns milliseconds. */
export function durationOption(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError(`expected a duration like 500ms, 30s, 10m or 1h, got '${value}'`);
  const exact = Number(m[1]) * UNIT_MS[(m[2] ?? 'ms') as keyof typeof UNIT_MS];
  // Simulated and real timers run on whole milliseconds; 0.5ms would silently become a fraction in the clock.
  // (1.1s is 1100.0000000000002 in binary: within 1e-6 of a whole number counts as that number.)
  const ms = Math.round(exact);
  if (Math.abs(exact - ms) > 1e-6)
    throw new InvalidArgumentError(`expected a whole number of milliseconds, got '${value}'`);
  // Beyond 2^53 ms simulated time loses millisecond precision (and the run would never end anyway).
  if (!(ms <= Number.MAX_SAFE_INTEGER))
    throw new InvalidArgumentError(`expected at most ${Number.MAX_SAFE_INTEGER} ms, got '${value}'`);
  return ms;
}

/** A duration that must be greater than zero (an interval: zero would never let simulated time advance). */
export function positiveDurationOption(value: string): number {
  const ms = durationOption(value);
  if (ms <= 0) throw new InvalidArgumentError(`expected a duration greater than 0 (e.g. 1s), got '${value}'`);
  return ms;
}

/**
 * `ms` (parsed from `value`) as a wall-clock timer's delay: a longer one than a timer holds would fire after
 * 1 ms (Node clamps it, with a TimeoutOverflowWarning), so it is refused.
 */
function withinTimer(ms: number, value: string): number {
  if (ms > MAX_TIMER_MS)
    throw new InvalidArgumentError(`expected at most ${MAX_TIMER_MS} ms (about 24 days), got '${value}'`);
  return ms;
}

/**
 * A duration option whose `--help` default reads with its unit (`(default: 60s)`, not `60000`). `timer`: it
 * sets a wall-clock timer (at most `MAX_TIMER_MS`).
 */
export function durationFlag(
  flags: string,
  description: string,
  defaultDuration: string,
  o: { positive?: boolean; timer?: boolean } = {},
): Option {
  const base = o.positive ? positiveDurationOption : durationOption;
  const parse = o.timer ? (v: string) => withinTimer(base(v), v) : base;
  return new Option(flags, description).argParser(parse).default(parse(defaultDuration), defaultDuration);
}

export function choiceOption<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, got '${value}'`);
    }
    return value as T;
  };
}

/** `'all'` or a comma-separated list of `choices`; checked when parsed, returned as given. */
export function listOption<T extends string>(choices: readonly T[]) {
  return (value: string): string => {
    if (value === 'all') return value;
    const seen = new Set<string>();
    for (const v of value.split(',')) {
      if (!(choices as readonly string[]).includes(v)) {
        throw new InvalidArgumentError(`expected 'all' or a comma list of ${choices.join(', ')}, got '${v}'`);
      }
      // A repeated name would run (and report) the same configuration twice.
      if (seen.has(v)) throw new InvalidArgumentError(`'${v}' twice in one list`);
      seen.add(v);
    }
    return value;
  };
}

/** `'all'` or one of `choices`. */
export function oneOrAllOption<T extends string>(choices: readonly T[]) {
  return (value: string): string => {
    if (value !== 'all' && !(choices as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(`expected 'all' or one of ${choices.join(', ')}, got '${value}'`);
    }
    return value;
  };
}

/** A directory path for `--out`: not empty. */
export function dirOption(value: string): string {
  if (value.trim() === '') throw new InvalidArgumentError('expected a directory, got an empty path');
  return value;
}
