/**
 * The synchronous core of the simulated line-scan camera: a belt scene and a sensor, stepped
 * one block of lines at a time. `simulatedLineScan` wraps it in an Observable with pacing; the
 * `simulate` command and benchmarks use it directly.
 */
import type { CubeFrame } from '../../../src/frame.js';
import { BeltScene, type BeltStats } from './belt.js';
import { type ResolvedSimOptions, resolveSimOptions, type SimulatedLineScanOptions } from './options.js';
import { simRandom } from './rng.js';
import { SensorModel } from './sensor.js';

/** Independent random streams derived from the seed. */
const GEOMETRY_STREAM = 1;
const SENSOR_STREAM = 2;

/** A deterministic line-scan camera over a lentil belt, stepped block by block. */
export interface LineScanSimulator {
  /** The resolved options (defaults filled in). */
  readonly options: ResolvedSimOptions;
  /** Band centres in nm (shared by every frame; treat as read-only). */
  readonly wavelengths: Float32Array;
  /** The sensor model (white reference response, dead elements), for inspection. */
  readonly sensor: SensorModel;
  /** Blocks emitted so far. */
  readonly blocksEmitted: number;
  /** Whether the `frames` / `maxBlocks` limit has been reached. */
  readonly done: boolean;
  /** The next block, or `undefined` once the limit is reached. `capturedAt` defaults to the time its last line was sensed. */
  nextBlock(capturedAt?: number): CubeFrame | undefined;
  /** Objects created so far, by class (foreign-body share = anomaly classes / objects). */
  stats(): BeltStats;
}

/**
 * Creates a simulator. The same options (seed included) always give the same data and labels.
 *
 * @throws {@link SimulatorOptionError} for a bad option
 * @example
 * ```ts
 * const sim = createLineScanSimulator({ width: 1024, blockRows: 64, seed: 7 });
 * const block = sim.nextBlock(); // 64 x 1024 x 61, labels included
 * ```
 */
export function createLineScanSimulator(input: SimulatedLineScanOptions = {}): LineScanSimulator {
  const options = resolveSimOptions(input);
  const { width, wavelengths, blockRows, totalRows } = options;
  const bands = wavelengths.length;
  const scene = new BeltScene(options, simRandom(options.seed, GEOMETRY_STREAM));
  const sensor = new SensorModel(options, simRandom(options.seed, SENSOR_STREAM));
  const owner = new Int32Array(width);
  const radius2 = new Float32Array(width);
  const blocksPerFrame = Math.ceil(totalRows / blockRows);
  const limit = Math.min(
    options.maxBlocks ?? Number.POSITIVE_INFINITY,
    options.frames === undefined ? Number.POSITIVE_INFINITY : options.frames * blocksPerFrame,
  );
  let line = 0;
  let emitted = 0;
  let frameId = 0;
  let rowOffset = 0;

  const nextBlock = (capturedAt?: number): CubeFrame | undefined => {
    if (emitted >= limit) return undefined;
    const rows = Math.min(blockRows, totalRows - rowOffset);
    const data = new Float32Array(rows * width * bands);
    const labels = new Uint8Array(rows * width);
    for (let row = 0; row < rows; row++, line++) {
      const objects = scene.rasterise(line, owner, radius2);
      sensor.senseLine(line, owner, radius2, objects, scene.belt, data, labels, row);
    }
    const frame: CubeFrame = {
      cameraId: options.cameraId,
      frameId,
      rowOffset,
      totalRows,
      // A camera stamps a block when its last line is captured: after sensing, not before.
      capturedAt: capturedAt ?? Date.now(),
      timings: {},
      height: rows,
      width,
      bands,
      wavelengths,
      wavelengthUnits: 'nm',
      data,
      labels,
    };
    emitted++;
    rowOffset += rows;
    if (rowOffset >= totalRows) {
      rowOffset = 0;
      frameId++;
    }
    return frame;
  };

  return {
    options,
    wavelengths,
    sensor,
    get blocksEmitted() {
      return emitted;
    },
    get done() {
      return emitted >= limit;
    },
    nextBlock,
    stats: () => scene.stats(),
  };
}
