/**
 * The one timeout race of the connectors: a promise that settles as `promise` does, or rejects
 * with the error `onTimeout` builds once `ms` have passed (the timer is cleared either way; the
 * raced promise goes on in the background, and its late rejection is handled).
 *
 * @param ms - how long to wait, in milliseconds
 * @param onTimeout - builds the rejection, e.g. a `SinkConnectTimeoutError`
 * @example
 * ```ts
 * import { SinkConnectTimeoutError } from 'cubestream/connectors';
 * await withTimeout(sink.connect(), 10_000, () => new SinkConnectTimeoutError('mqtt', 'mqtt://broker:1883', 10_000));
 * ```
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
