/**
 * Command-line arguments of scripts/*.ts. Each script declares its flags; `--help`/`-h` prints the usage and
 * exits 0, and an unknown argument, a missing value or a bad one is one line `<script>: <reason>` on stderr
 * and exit status 2 (no stack trace). Only `--name value` and `--switch`: `--name=value` is refused, not split,
 * as every script documents the spaced form and a typo must not run a default scan of minutes. Hand-parsed,
 * not commander: commander accepts `--name=value` and words its errors its own way.
 */

/** Reads a flag's value: undefined when the text is not one; `needs` completes "--seeds needs …". */
export interface Reader<T> {
  /** The value's placeholder in the usage: `N`, `DIR`. */
  readonly arg: string;
  readonly needs: string;
  read(text: string): T | undefined;
}

export interface Flag<T = unknown> {
  readonly help: string;
  /** How the flag's value is read; a flag without one is a switch. */
  readonly value?: Reader<T>;
  readonly default?: T;
}

/** Per flag: its value (the default when not given; undefined if it has none), or whether a switch was given. */
export type Parsed<F> = {
  [K in keyof F]: F[K] extends { value: Reader<infer T> }
    ? F[K] extends { default: unknown }
      ? T
      : T | undefined
    : boolean;
};

const int = (min: number, needs: string): Reader<number> => ({
  arg: 'N',
  needs,
  read: (s) =>
    /^\d+$/.test(s) && Number.isSafeInteger(Number(s)) && Number(s) >= min ? Number(s) : undefined,
});
export const positiveInt = int(1, 'a positive integer');
export const nonNegativeInt = int(0, 'a non-negative integer');
export const text = (arg: string, needs: string): Reader<string> => ({
  arg,
  needs,
  read: (s) => (s === '' ? undefined : s),
});
export const oneOf = <T extends string>(names: readonly T[]): Reader<T> => ({
  arg: 'NAME',
  needs: `one of ${names.join(', ')}`,
  read: (s) => names.find((n) => n === s),
});

/** One line on stderr, exit status 2: a usage error of `script`. */
export function usageError(script: string, message: string): never {
  process.stderr.write(`${script}: ${message}\n`);
  process.exit(2);
}

export function usage(script: string, about: string, flags: Record<string, Flag>): string {
  const form = (name: string, f: Flag) => (f.value ? `${name} ${f.value.arg}` : name);
  const rows = Object.entries(flags).map(([name, f]) => [
    form(name, f),
    f.default === undefined ? f.help : `${f.help} (default ${f.default})`,
  ]);
  const width = Math.max(...rows.map(([left]) => left.length));
  return [
    `usage: ${script} ${rows.map(([left]) => `[${left}]`).join(' ')}`,
    '',
    about,
    '',
    ...rows.map(([left, help]) => `  ${left.padEnd(width)}  ${help}`),
    `  ${'--help'.padEnd(width)}  this text`,
    '',
  ].join('\n');
}

export function parseArgs<const F extends Record<`--${string}`, Flag>>(
  script: string,
  about: string,
  flags: F,
  argv: readonly string[] = process.argv.slice(2),
): Parsed<F> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(usage(script, about, flags));
    process.exit(0);
  }
  const table: Record<string, Flag> = flags;
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(table)) out[name] = f.value ? f.default : false;
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i];
    const f = Object.hasOwn(table, name) ? table[name] : undefined;
    if (f === undefined) usageError(script, `unknown argument ${name} (--help lists the options)`);
    if (!f.value) {
      out[name] = true;
      continue;
    }
    // The next flag is not this one's value: `--dir --fresh` misses the directory.
    const raw = argv[i + 1];
    const v = raw === undefined || raw.startsWith('--') ? undefined : f.value.read(raw);
    if (v === undefined) usageError(script, `${name} needs ${f.value.needs}`);
    out[name] = v;
    i++;
  }
  return out as Parsed<F>;
}
