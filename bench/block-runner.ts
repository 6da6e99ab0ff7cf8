import { type MonoTypeOperatorFunction, type Observable, type OperatorFunction, Subject, tap } from 'rxjs';
import { nearestRank } from '../src/core/quantile.js';

/** Wall-clock time now, epoch ms with sub-millisecond resolution. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Accumulated time per stage (ms), in the order stages were first seen. */
export class StageClock {
  readonly #total = new Map<string, number>();
  readonly #open = new Map<string, number>();

  /** Wraps `op` so that the time from a value entering it to its output leaving is added to `name`. */
  timed<A, B>(name: string, op: OperatorFunction<A, B>): OperatorFunction<A, B> {
    const start: MonoTypeOperatorFunction<A> = tap(() => this.#open.set(name, performance.now()));
    const stop: MonoTypeOperatorFunction<B> = tap(() => {
      const began = this.#open.get(name);
      if (began !== undefined) this.add(name, performance.now() - began);
    });
    return (source) => source.pipe(start, op, stop);
  }

  /** Adds `ms` to a stage. */
  add(name: string, ms: number): void {
    this.#total.set(name, (this.#total.get(name) ?? 0) + ms);
  }

  /** Mean ms per block for each stage. */
  perBlock(blocks: number): Record<string, number> {
    return Object.fromEntries([...this.#total].map(([name, ms]) => [name, blocks > 0 ? ms / blocks : 0]));
  }
}

/**
 * One long-lived pipeline fed one block at a time: `run(block)` pushes the block in and
 * resolves with the pipeline's output for it. Operators keep their state across blocks (as in
 * the service) and, with one block in flight, {@link StageClock} times each stage exactly.
 * The pipeline must emit exactly one output per input (decisions per block).
 */
export class BlockRunner<I, O> {
  readonly #input = new Subject<I>();
  readonly #pending: { resolve: (value: O) => void; reject: (error: unknown) => void }[] = [];
  readonly #done: Promise<void>;
  #failure: unknown;

  constructor(pipeline: (source: Observable<I>) => Observable<O>) {
    this.#done = new Promise((resolve) => {
      pipeline(this.#input.asObservable()).subscribe({
        next: (value) => this.#pending.shift()?.resolve(value),
        error: (error: unknown) => {
          this.#failure = error;
          for (const waiting of this.#pending.splice(0)) waiting.reject(error);
          resolve();
        },
        complete: () => resolve(),
      });
    });
  }

  /** Scores one block; rejects when the pipeline fails. */
  run(block: I): Promise<O> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    return new Promise<O>((resolve, reject) => {
      this.#pending.push({ resolve, reject });
      this.#input.next(block);
    });
  }

  /** Completes the pipeline (operators release their state). */
  async close(): Promise<void> {
    this.#input.complete();
    await this.#done;
  }
}

/** Samples the resident set size while a scenario runs; `peakMb` is the largest seen. */
export class RssSampler {
  #peak = process.memoryUsage.rss();
  readonly #timer = setInterval(() => this.sample(), 25);

  /** Takes a sample now (call it after each block too: the timer cannot fire during a blocking run). */
  sample(): void {
    this.#peak = Math.max(this.#peak, process.memoryUsage.rss());
  }

  /** Stops sampling and returns the peak in MiB. */
  stop(): number {
    clearInterval(this.#timer);
    this.sample();
    return this.#peak / 2 ** 20;
  }
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN when empty. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[nearestRank(sorted.length, q)] as number;
}
