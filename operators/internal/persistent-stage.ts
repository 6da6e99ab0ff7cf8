import { Observable, type OperatorFunction, Subject, type Subscriber, type Subscription } from 'rxjs';

/** A long-lived operator chain fed one item at a time. */
export interface PersistentStage<A, B> {
  /** Pushes one item through the chain; emits its one result and completes. */
  run(item: A): Observable<B>;
  /** Completes the chain's input and releases its state. */
  close(): void;
}

/** Options of {@link persistentStage}. */
export interface PersistentStageOptions {
  /**
   * After a chain error, fail only the items in flight and start the chain afresh on the next
   * `run` (its state, e.g. per-camera centres, starts over); default false: every later `run`
   * fails with the same error.
   */
  readonly recover?: boolean;
}

/**
 * Keeps one subscription of a one-in-one-out, order-keeping `chain` alive across items, so
 * stateful stages (per-camera centres, caches) keep their state while a per-item scheduler such as
 * `backpressure` drives them. Results are matched to callers in FIFO order (the result of an item
 * whose caller unsubscribed is discarded). A chain error fails
 * the item in flight and every later `run`, unless `recover` starts the chain again.
 *
 * @example
 * ```ts
 * import { finalize } from 'rxjs';
 * import { backpressure, deepSvddScorer } from 'cubestream/operators';
 * const scorer = persistentStage(deepSvddScorer(params));
 * frames$.pipe(backpressure((frame) => scorer.run(frame), { policy: 'dropOldest', capacity: 4 }), finalize(() => scorer.close()));
 * ```
 */
export function persistentStage<A, B>(
  chain: OperatorFunction<A, B>,
  options: PersistentStageOptions = {},
): PersistentStage<A, B> {
  const input = new Subject<A>();
  // Callers in FIFO order; one that unsubscribed stays as null so later results still match up.
  const waiting: (Subscriber<B> | null)[] = [];
  let failure: unknown;
  let subscription: Subscription | undefined;
  // The chain ended in an error that `recover` lets the next `run` start over from.
  let broken = false;
  const start = (): void => {
    broken = false;
    subscription = chain(input).subscribe({
      next: (value) => {
        const caller = waiting.shift();
        caller?.next(value);
        caller?.complete();
      },
      error: (error: unknown) => {
        // Set before the callers hear of it: one of them may `run` the next item at once.
        if (options.recover === true) broken = true;
        else failure = error;
        for (const caller of waiting.splice(0)) caller?.error(error);
      },
      complete: () => {
        for (const caller of waiting.splice(0)) caller?.complete();
      },
    });
  };
  return {
    run: (item) =>
      new Observable<B>((caller) => {
        if (failure !== undefined) {
          caller.error(failure);
          return;
        }
        if (subscription === undefined || broken) start();
        waiting.push(caller);
        input.next(item);
        return () => {
          const index = waiting.indexOf(caller);
          if (index >= 0) waiting[index] = null;
        };
      }),
    close: () => {
      input.complete();
      subscription?.unsubscribe();
    },
  };
}
