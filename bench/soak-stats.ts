/**
 * The arithmetic of `bench/soak.ts`: the warm-up excluded from the memory slopes, and
 * least-squares slopes of memory samples in MB per minute.
 */

/** One `process.memoryUsage()` reading, `t` seconds after the service started. Bytes. */
export interface MemorySample {
  readonly t: number;
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

/** Which memory figure a slope is of. */
export type MemoryField = Exclude<keyof MemorySample, 't'>;

/** The warm-up rule, as printed in the soak's JSON line. */
export const WARMUP_RULE = 'first 20% of the run or first 60 s, whichever is shorter';

/**
 * Seconds at the start of a run left out of the slopes: 20 % of it, at most 60 s.
 *
 * @example
 * ```ts
 * warmupSeconds(30); // 6
 * warmupSeconds(600); // 60
 * ```
 */
export function warmupSeconds(runSeconds: number): number {
  return Math.min(0.2 * runSeconds, 60);
}

/** A least-squares line fit: slope, its standard error (undefined below 3 points), and the point count. */
export interface SlopeFit {
  readonly slope: number;
  readonly stdErr: number | undefined;
  readonly n: number;
}

/**
 * Ordinary least-squares slope of `ys` against `xs`; undefined with fewer than 2 points or when
 * every x is the same.
 *
 * @example
 * ```ts
 * leastSquares([0, 1, 2], [1, 3, 5])?.slope; // 2
 * ```
 */
export function leastSquares(xs: readonly number[], ys: readonly number[]): SlopeFit | undefined {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return undefined;
  let mx = 0;
  let my = 0;
  for (let i = 0; i < n; i++) {
    mx += xs[i] as number;
    my += ys[i] as number;
  }
  mx /= n;
  my /= n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] as number) - mx;
    sxx += dx * dx;
    sxy += dx * ((ys[i] as number) - my);
  }
  if (sxx === 0) return undefined;
  const slope = sxy / sxx;
  if (n < 3) return { slope, stdErr: undefined, n };
  let sse = 0;
  for (let i = 0; i < n; i++) {
    const r = (ys[i] as number) - my - slope * ((xs[i] as number) - mx);
    sse += r * r;
  }
  return { slope, stdErr: Math.sqrt(sse / (n - 2) / sxx), n };
}

const MB = 1024 * 1024;

/**
 * Slope of one memory figure in MB per minute over the samples taken at or after `fromSeconds`.
 *
 * @example
 * ```ts
 * const samples = [0, 60, 120].map((t) => ({ t, rss: (100 + t / 60) * 2 ** 20, heapUsed: 0, heapTotal: 0, external: 0, arrayBuffers: 0 }));
 * memorySlope(samples, 'rss', 0)?.slope; // 1
 * ```
 */
export function memorySlope(
  samples: readonly MemorySample[],
  field: MemoryField,
  fromSeconds: number,
): SlopeFit | undefined {
  const kept = samples.filter((s) => s.t >= fromSeconds);
  return leastSquares(
    kept.map((s) => s.t / 60),
    kept.map((s) => s[field] / MB),
  );
}

/** Rounds to `digits` decimals; undefined stays undefined (and is left out of JSON). */
export function round(value: number | undefined, digits = 2): number | undefined {
  if (value === undefined || !Number.isFinite(value)) return undefined;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
