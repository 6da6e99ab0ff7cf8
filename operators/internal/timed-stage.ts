import { defer, type OperatorFunction, tap } from 'rxjs';

/** Receives the time one item spent in a stage, in seconds. */
export type StageTimer = (stage: string, seconds: number) => void;

/**
 * Wraps a one-in-one-out, order-keeping operator and reports, per item, the seconds from the
 * item entering to its result leaving (the `stage_duration_seconds{stage}` histogram). Start
 * times wait in a FIFO, so asynchronous stages are timed correctly too.
 */
export function timedStage<A, B>(
  stage: string,
  operator: OperatorFunction<A, B>,
  onStage?: StageTimer,
): OperatorFunction<A, B> {
  if (onStage === undefined) return operator;
  return (source) =>
    defer(() => {
      const started: number[] = [];
      return source.pipe(
        tap(() => started.push(performance.now())),
        operator,
        tap(() => {
          const t0 = started.shift();
          if (t0 !== undefined) onStage(stage, (performance.now() - t0) / 1000);
        }),
      );
    });
}
