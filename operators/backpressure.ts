import { from, Observable, type ObservableInput, type OperatorFunction, type Subscription } from 'rxjs';
import { QUEUE_DROP_REASONS, type QueueDropReason } from '../src/core/drop-reasons.js';
import { CubestreamError } from '../src/core/errors.js';
import { requireInteger, requireOneOf } from './internal/errors.js';

/** What happens to an item that finds the queue full. */
export type BackpressurePolicy = 'block' | 'dropOldest' | 'dropNewest';

/**
 * Why the queue dropped an item: a `reason` label of `cubestream_frames_dropped_total` (whose
 * whole list, camera sources' reasons included, is `FRAME_DROP_REASONS` in src/core/drop-reasons.ts).
 */
export type DropReason = QueueDropReason;

/** Every {@link DropReason}. */
export const DROP_REASONS = QUEUE_DROP_REASONS;

/** Options of {@link backpressure}. */
export interface BackpressureOptions<A> {
  /** `dropOldest` evicts the oldest queued item, `dropNewest` discards the arriving one, `block` errors. */
  readonly policy: BackpressurePolicy;
  /** Items that may wait while the stage is busy (the one in the stage not counted); >= 1. */
  readonly capacity: number;
  /** Called for each dropped item with the reason, before `release`. */
  readonly onDrop?: (item: A, reason: DropReason) => void;
  /** Frees an item that will never reach the stage: dropped, or still queued at error/unsubscribe. */
  readonly release?: (item: A) => void;
  /** Called with the number of queued items whenever it changes (the `queue_depth` gauge). */
  readonly onQueueDepth?: (depth: number) => void;
}

/** The queue of a `block` policy overflowed (code `queue_overflow`): the stage is slower than the source. */
export class QueueOverflowError extends CubestreamError {
  constructor(readonly capacity: number) {
    super(
      'queue_overflow',
      `backpressure queue overflow: capacity = ${capacity} items waiting, policy block`,
    );
  }
}

/**
 * Runs a slow asynchronous `stage` on each item, one at a time and in order (like `concatMap`),
 * without ever making the source wait: at most `capacity` items queue up behind the one in the
 * stage. An item arriving at a full queue is handled by `policy`: `dropOldest` evicts the
 * oldest queued item (reason `queue_full_oldest`), `dropNewest` discards the arriving one
 * (`queue_full_newest`); each drop goes to `onDrop` and then to `release`. `block` never
 * drops: a push source cannot be paused, so it errors the stream with
 * {@link QueueOverflowError} instead (use it where overflow is a fault, e.g. replaying a file).
 * The output completes when the source has completed and the queue is drained; a source or
 * stage error passes through at once. Queued items are released on error and unsubscribe; the
 * item inside the stage is the stage's to release.
 *
 * @throws `OptionError` at build time for a bad policy or capacity
 * @example
 * ```ts
 * import type { CubeFrame, ScoredFrame } from 'cubestream';
 * declare function scoreOnWorker(frame: CubeFrame): Promise<ScoredFrame>;
 * frames$.pipe(backpressure((frame) => scoreOnWorker(frame), { policy: 'dropOldest', capacity: 2,
 *   onDrop: (f, reason) => metrics.framesDropped.inc({ camera: f.cameraId, reason }),
 *   onQueueDepth: (d) => metrics.queueDepth.set({ camera: 'cam0' }, d) }))
 * ```
 */
export function backpressure<A, B>(
  stage: (item: A, index: number) => ObservableInput<B>,
  options: BackpressureOptions<A>,
): OperatorFunction<A, B> {
  const policy = requireOneOf('backpressure.policy', options.policy, [
    'block',
    'dropOldest',
    'dropNewest',
  ] as const);
  const capacity = requireInteger('backpressure.capacity', options.capacity, 1);
  const { onDrop, release, onQueueDepth } = options;

  return (source) =>
    new Observable<B>((subscriber) => {
      const queue: A[] = [];
      let running: Subscription | undefined;
      let busy = false;
      let sourceDone = false;
      let index = 0;
      const depth = (): void => onQueueDepth?.(queue.length);
      const drop = (item: A, reason: DropReason): void => {
        onDrop?.(item, reason);
        release?.(item);
      };
      // Starts queued items until the stage stays busy; a loop, so stages that finish synchronously do not recurse.
      const pump = (): void => {
        while (!busy && !subscriber.closed) {
          if (queue.length === 0) {
            if (sourceDone) subscriber.complete();
            return;
          }
          const item = queue.shift() as A;
          depth();
          busy = true;
          let synchronous = true;
          running = from(stage(item, index++)).subscribe({
            next: (value) => subscriber.next(value),
            error: (error) => subscriber.error(error),
            complete: () => {
              busy = false;
              if (!synchronous) pump();
            },
          });
          synchronous = false;
        }
      };
      const input = source.subscribe({
        next: (item) => {
          if (!busy || queue.length < capacity) {
            queue.push(item);
            depth();
          } else if (policy === 'dropNewest') {
            drop(item, 'queue_full_newest');
          } else if (policy === 'dropOldest') {
            drop(queue.shift() as A, 'queue_full_oldest');
            queue.push(item);
          } else {
            release?.(item);
            subscriber.error(new QueueOverflowError(capacity));
            return;
          }
          pump();
        },
        error: (error) => subscriber.error(error),
        complete: () => {
          sourceDone = true;
          pump();
        },
      });
      return () => {
        input.unsubscribe();
        running?.unsubscribe();
        const left = queue.splice(0);
        for (const item of left) release?.(item);
        if (left.length > 0) depth();
      };
    });
}
