/**
 * Shared settings of the fuzz tests: a fixed seed so that every run explores the same inputs and a
 * failure reproduces (fast-check prints the seed and path to replay a counterexample), and a run
 * count small enough to keep each property to a few seconds. `FUZZ_SEED` and `FUZZ_RUNS` widen a
 * local search (e.g. `FUZZ_SEED=7 FUZZ_RUNS=20000 npx vitest run test/fuzz/`); CI uses the defaults.
 */
import type { Parameters } from 'fast-check';

/** Seed of every fuzz property unless `FUZZ_SEED` is set. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_261_129);

/** fast-check parameters for a property, with `runs` cases (scaled by `FUZZ_RUNS / 1000`). */
export function fuzzParameters<T>(runs: number): Parameters<T> {
  const scale = process.env.FUZZ_RUNS === undefined ? 1 : Number(process.env.FUZZ_RUNS) / 1000;
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(runs * scale)) };
}

/** What a call under fuzz did: returned a value, or threw. */
export type Outcome<T> = { ok: true; value: T } | { ok: false; error: unknown };

/** Runs `call`, capturing its result or what it threw. */
export function outcome<T>(call: () => T): Outcome<T> {
  try {
    return { ok: true, value: call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Same as {@link outcome} for an async call. */
export async function outcomeAsync<T>(call: () => Promise<T>): Promise<Outcome<T>> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

/**
 * Fails unless `error` is an instance of `expected`, rethrowing it so that the report shows the
 * real exception (type, message, stack) next to the counterexample.
 */
export function expectNamedError<E extends Error>(
  error: unknown,
  expected: abstract new (...args: never[]) => E,
): asserts error is E {
  if (!(error instanceof expected)) {
    const name = error instanceof Error ? error.constructor.name : typeof error;
    throw new Error(`expected ${expected.name}, got ${name}: ${String(error)}`, { cause: error });
  }
}
