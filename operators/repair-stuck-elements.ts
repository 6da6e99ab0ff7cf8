import { map, type OperatorFunction } from 'rxjs';
import type { CubeFrame } from '../src/core/frame.js';
import { StuckElementMap } from './internal/stuck-elements.js';

/** Options of {@link repairStuckElements}. */
export interface RepairStuckElementsOptions {
  /** Blocks in a row a defective element must look alive before it is trusted again. Default 3. */
  readonly releaseBlocks?: number;
  /** Called when a camera's count of defective elements changes (a metric, a warning). */
  readonly onDefects?: (cameraId: string, count: number) => void;
}

/** Cameras whose maps are kept: a bound on what a stream of unknown cameras can make this stage hold. */
export const MAX_TRACKED_CAMERAS = 256;

/**
 * Defective pixel correction for line-scan blocks: finds sensor elements (a column in a band)
 * that froze (dead at 0, saturated, stuck) and replaces them, from the row they froze at, by
 * interpolating between the nearest healthy bands of the same pixel (docs/maths.md §5). An
 * element is stuck when its last 8 or more rows hold one value while a neighbour column's do not. A block that needed no repair passes through untouched (same object, no copy); a
 * repaired one is a copy with its own data, keeping the original's `release`. Per camera; a
 * camera's map restarts when its geometry changes.
 *
 * @example
 * ```ts
 * frames$.pipe(repairStuckElements({ onDefects: (camera, n) => console.warn(`${camera}: ${n} stuck elements`) }));
 * ```
 */
export function repairStuckElements(
  options: RepairStuckElementsOptions = {},
): OperatorFunction<CubeFrame, CubeFrame> {
  const releaseBlocks = options.releaseBlocks ?? 3;
  return (frames) => {
    const maps = new Map<string, StuckElementMap>();
    return frames.pipe(
      map((frame) => {
        let known = maps.get(frame.cameraId);
        if (known === undefined || known.width !== frame.width || known.bands !== frame.bands) {
          if (known === undefined && maps.size >= MAX_TRACKED_CAMERAS) return frame;
          known = new StuckElementMap(frame.width, frame.bands, releaseBlocks);
          maps.set(frame.cameraId, known);
        }
        const before = known.count;
        const data = known.repair(frame.data, frame.height);
        if (known.count !== before) options.onDefects?.(frame.cameraId, known.count);
        return data === frame.data ? frame : { ...frame, data };
      }),
    );
  };
}
