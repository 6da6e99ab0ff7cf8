/**
 * The simulated hyperspectral line-scan camera over a lentil conveyor: the realistic source for
 * tests, demos and benchmarks. See `simulator/` for the scene, spectra and sensor models.
 */
import { Observable, Subject } from 'rxjs';
import type { CubeFrame } from '../../src/core/frame.js';
import { FrameBufferPool } from '../../src/core/frame-buffer-pool.js';
import type { RowsReady } from '../../src/core/rows-ready.js';
import { createLineScanSimulator, type FrameCapture } from './simulator/line-scan-simulator.js';
import { resolveSimOptions, type SimulatedLineScanOptions } from './simulator/options.js';
import { type CameraSource, createSourceState } from './source-state.js';

export {
  isSimAnomaly,
  SIM_ANOMALY_CLASS_IDS,
  SIM_CLASSES,
  SIM_NORMAL_CLASS_IDS,
  type SimClass,
} from './simulator/classes.js';
export {
  createLineScanSimulator,
  type FrameCapture,
  type LineScanSimulator,
} from './simulator/line-scan-simulator.js';

/** Shortest wait between two paced ticks (ms): at high line rates a tick senses several lines. */
const MIN_TICK_MS = 2;

export type { SimOutput, SimulatedLineScanOptions } from './simulator/options.js';
export { SIM_PRESETS, type SimPreset } from './simulator/wavelengths.js';

/**
 * A simulated line-scan camera as a {@link CameraSource}.
 *
 * `frames` is cold: each subscription starts a fresh simulator from the seed, so two
 * subscriptions (or two runs) see identical data and labels whatever the pacing. Without
 * `linesPerSecond` blocks are emitted as fast as possible, one per macrotask (`setImmediate`),
 * so the event loop keeps turning, each after `demand()` (when given) says the consumer has
 * room; with it, lines are sensed in real time (line `i` once `(i + 1) / linesPerSecond` seconds
 * have passed, catching up after a stall rather than drifting), a block is emitted with its
 * last line, and the block being filled is published on `rows` ({@link RowsReady}) as its lines
 * come in, for a scorer that scores rows ahead (`fusedDeepSvddScore`'s `earlyRows`). `rows` is
 * shared by every subscription (a block is known by its buffer). Block buffers are lent from a
 * pool: a consumer done with a block calls its `release` so that a later block reuses the buffer
 * (the service does, once the block's decision is out). Unsubscribing clears the pending timer.
 * `state` goes `starting` ->
 * `running` (on subscribe) -> `ended` (once every subscription has reached its limit or
 * unsubscribed) or `error`.
 *
 * @throws `OptionError` at call time for a bad option
 * @example
 * ```ts
 * import { take } from 'rxjs';
 * const camera = simulatedLineScan({ width: 1024, anomalyRate: 0.01, linesPerSecond: 500 });
 * camera.frames.pipe(take(100)).subscribe((block) => console.log(block.frameId, block.rowOffset));
 * ```
 */
export function simulatedLineScan(options: SimulatedLineScanOptions = {}): CameraSource {
  const linesPerSecond = resolveSimOptions(options).linesPerSecond;
  const status = createSourceState();
  const rows = new Subject<RowsReady>();
  const buffers = new FrameBufferPool();
  let running = 0;
  const frames = new Observable<CubeFrame>((subscriber) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let immediate: ReturnType<typeof setImmediate> | undefined;
    let finished = false;
    // Leaves this subscription's share of the state: `error` at once, `ended` when it was the last.
    const finish = (error?: unknown): void => {
      if (finished) return;
      finished = true;
      running--;
      if (error !== undefined) status.set('error');
      else if (running === 0 && status.current === 'running') status.set('ended');
    };
    running++;
    let simulator: ReturnType<typeof createLineScanSimulator>;
    try {
      simulator = createLineScanSimulator(options, buffers);
    } catch (error) {
      finish(error);
      subscriber.error(error);
      return undefined;
    }
    status.set('running');
    const started = performance.now();

    // Unpaced: whole blocks, each as soon as the consumer has room.
    const step = (): void => {
      immediate = undefined;
      if (subscriber.closed) return;
      let block: CubeFrame | undefined;
      try {
        block = simulator.nextFrame();
      } catch (error) {
        finish(error);
        subscriber.error(error);
        return;
      }
      if (block !== undefined) {
        subscriber.next(block);
        if (subscriber.closed) return;
        if (!simulator.done) {
          schedule();
          return;
        }
      }
      finish();
      subscriber.complete();
    };
    const schedule = (): void => {
      const room = options.demand?.();
      if (room === undefined) immediate = setImmediate(step);
      else void room.then(() => (immediate = setImmediate(step)));
    };

    // Paced: line i is sensed once (i + 1) / linesPerSecond seconds have passed (catching up
    // after a stall rather than drifting); a block goes out with its last line, and the block
    // being filled is published on `rows` as its lines come in.
    let capture: FrameCapture | undefined;
    let lines = 0;
    const tick = (rate: number): void => {
      timer = undefined;
      if (subscriber.closed) return;
      try {
        const due = Math.floor(((performance.now() - started) * rate) / 1000);
        let progressed = false;
        while (capture !== undefined && lines < due) {
          const sensed = capture.sense(due - lines);
          lines += sensed;
          progressed = sensed > 0;
          if (capture.sensed === capture.rows) {
            subscriber.next(capture.finish());
            if (subscriber.closed) return;
            progressed = false;
            capture = simulator.beginFrame();
          }
        }
        if (capture === undefined) {
          finish();
          subscriber.complete();
          return;
        }
        if (progressed) rows.next(rowsOf(capture));
      } catch (error) {
        finish(error);
        subscriber.error(error);
        return;
      }
      const nextLine = started + ((lines + 1) * 1000) / rate;
      timer = setTimeout(() => tick(rate), Math.max(MIN_TICK_MS, nextLine - performance.now()));
    };
    const rowsOf = (block: FrameCapture): RowsReady => ({
      cameraId: simulator.options.cameraId,
      height: block.rows,
      width: simulator.options.width,
      bands: simulator.wavelengths.length,
      wavelengths: simulator.wavelengths,
      wavelengthUnits: 'nm',
      data: block.data,
      rows: block.sensed,
    });

    if (linesPerSecond === undefined) schedule();
    else {
      try {
        capture = simulator.beginFrame();
      } catch (error) {
        finish(error);
        subscriber.error(error);
        return undefined;
      }
      const rate = linesPerSecond;
      timer = setTimeout(() => tick(rate), Math.max(MIN_TICK_MS, 1000 / rate));
    }
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      finish();
    };
  });
  return { frames, state: status.state, rows: rows.asObservable() };
}
