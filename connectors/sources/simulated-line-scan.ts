/**
 * The simulated hyperspectral line-scan camera over a lentil conveyor: the realistic source for
 * tests, demos and benchmarks. See `simulator/` for the scene, spectra and sensor models.
 */
import { Observable } from 'rxjs';
import type { CubeFrame } from '../../src/frame.js';
import { createLineScanSimulator } from './simulator/line-scan-simulator.js';
import { resolveSimOptions, type SimulatedLineScanOptions } from './simulator/options.js';
import { type CameraSource, createSourceState } from './source-state.js';

export {
  isSimAnomaly,
  SIM_ANOMALY_CLASS_IDS,
  SIM_CLASSES,
  SIM_NORMAL_CLASS_IDS,
  type SimClass,
} from './simulator/classes.js';
export { createLineScanSimulator, type LineScanSimulator } from './simulator/line-scan-simulator.js';
export {
  type SimOutput,
  type SimulatedLineScanOptions,
  SimulatorOptionError,
} from './simulator/options.js';
export { SIM_PRESETS, type SimPreset } from './simulator/wavelengths.js';

/**
 * A simulated line-scan camera as a {@link CameraSource}.
 *
 * `frames` is cold: each subscription starts a fresh simulator from the seed, so two
 * subscriptions (or two runs) see identical data and labels whatever the pacing. Without
 * `linesPerSecond` blocks are emitted as fast as possible, one per macrotask (`setImmediate`),
 * so the event loop keeps turning, each after `demand()` (when given) says the consumer has
 * room; with it, a block of `n` lines is emitted once `n / linesPerSecond` seconds have passed
 * since the previous one (real timers, catching up after a stall rather than drifting). Unsubscribing clears the pending timer. `state` goes `starting` ->
 * `running` (on subscribe) -> `ended` (once every subscription has reached its limit or
 * unsubscribed) or `error`.
 *
 * @throws {@link SimulatorOptionError} at call time for a bad option
 * @example
 * ```ts
 * const camera = simulatedLineScan({ width: 1024, anomalyRate: 0.01, linesPerSecond: 500 });
 * camera.frames.pipe(take(100)).subscribe((block) => process(block));
 * ```
 */
export function simulatedLineScan(options: SimulatedLineScanOptions = {}): CameraSource {
  const linesPerSecond = resolveSimOptions(options).linesPerSecond;
  const status = createSourceState();
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
      simulator = createLineScanSimulator(options);
    } catch (error) {
      finish(error);
      subscriber.error(error);
      return undefined;
    }
    status.set('running');
    const started = performance.now();
    let lines = 0;

    const step = (): void => {
      timer = undefined;
      immediate = undefined;
      if (subscriber.closed) return;
      let block: CubeFrame | undefined;
      try {
        block = simulator.nextBlock();
      } catch (error) {
        finish(error);
        subscriber.error(error);
        return;
      }
      if (block !== undefined) {
        lines += block.height;
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
      if (linesPerSecond === undefined) {
        const room = options.demand?.();
        if (room === undefined) immediate = setImmediate(step);
        else void room.then(() => (immediate = setImmediate(step)));
        return;
      }
      // The next block is due when its lines have been "scanned": (lines + next block) / rate.
      const { blockRows, totalRows } = simulator.options;
      const nextLines = Math.min(blockRows, totalRows - (lines % totalRows));
      const due = started + ((lines + nextLines) * 1000) / linesPerSecond;
      timer = setTimeout(step, Math.max(0, due - performance.now()));
    };

    schedule();
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      if (immediate !== undefined) clearImmediate(immediate);
      finish();
    };
  });
  return { frames, state: status.state };
}
