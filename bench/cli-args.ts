/** Argument helpers shared by the bench scripts: a usage error exits 2 with one line and the usage. */

/** The `fail` and `positive` of one bench script. */
export interface BenchArgs {
  /** Prints `<tool>: <message>` and the usage, exits 2. */
  fail(message: string): never;
  /** `value` as a positive number, `fallback` when absent; fails on anything else. */
  positive(name: string, value: string | undefined, fallback: number): number;
}

/**
 * Argument helpers of a bench script.
 *
 * @example
 * ```ts
 * const { fail, positive } = benchArgs('soak', USAGE);
 * const minutes = positive('minutes', values.minutes, 10);
 * ```
 */
export function benchArgs(tool: string, usage: string): BenchArgs {
  const fail = (message: string): never => {
    console.error(`${tool}: ${message}\n${usage}`);
    process.exit(2);
  };
  return {
    fail,
    positive(name, value, fallback) {
      if (value === undefined) return fallback;
      const n = Number(value);
      if (!(n > 0) || !Number.isFinite(n))
        fail(`--${name} = ${JSON.stringify(value)} must be a positive number`);
      return n;
    },
  };
}
