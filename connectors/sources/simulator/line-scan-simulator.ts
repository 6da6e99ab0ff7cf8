/**
 * The synchronous core of the simulated line-scan camera: a belt scene and a sensor, stepped
 * one block of lines at a time. `simulatedLineScan` wraps it in an Observable with pacing; the
 * `simulate` command and benchmarks use it directly.
 */

import type { CubeFrame } from '../../../src/core/frame.js';
import type { FrameBufferPool } from '../../../src/core/frame-buffer-pool.js';
import type { BlockTruth, ForeignBodyTruth } from '../../../src/core/truth.js';
import { type BeltObject, BeltScene, type BeltStats } from './belt.js';
import { isSimAnomaly } from './classes.js';
import { DRIFT_MAGNITUDES, DRIFT_RAMP_SECONDS, driftStateAt } from './drift.js';
import { type ResolvedSimOptions, resolveSimOptions, type SimulatedLineScanOptions } from './options.js';
import { simRandom } from './rng.js';
import { type DyingElement, drawDeadElements, SensorModel } from './sensor.js';

/** Independent random streams derived from the seed. */
const GEOMETRY_STREAM = 1;
const SENSOR_STREAM = 2;
const DRIFT_STREAM = 3;

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
  nextFrame(capturedAt?: number): CubeFrame | undefined;
  /**
   * Starts capturing the next block line by line (as a paced camera does), or `undefined` once
   * the limit is reached. Lines come out exactly as from {@link LineScanSimulator.nextFrame};
   * begin the next block only after finishing this one.
   */
  beginFrame(): FrameCapture | undefined;
  /** Objects created so far, by class (foreign-body share = anomaly classes / objects). */
  stats(): BeltStats;
}

/** A block being captured: its buffer fills line by line. */
export interface FrameCapture {
  /** The block's whole buffer, `[rows * width, bands]`; lines `0 .. sensed-1` are final. */
  readonly data: Float32Array;
  /** Lines in the block. */
  readonly rows: number;
  /** Lines captured so far. */
  readonly sensed: number;
  /** Captures up to `lines` more lines; returns how many it did. */
  sense(lines: number): number;
  /**
   * The block as a frame, once every line is in (`capturedAt` defaults to now).
   *
   * @throws {Error} when lines are missing
   */
  finish(capturedAt?: number): CubeFrame;
}

/**
 * Creates a simulator. The same options (seed included) always give the same data and labels.
 * Block buffers are lent from `buffers` when given, and each block carries its `release`
 * (released ones are reused; see {@link FrameBufferPool}).
 *
 * @throws `OptionError` for a bad option
 * @example
 * ```ts
 * const sim = createLineScanSimulator({ width: 1024, blockRows: 64, seed: 7 });
 * const block = sim.nextFrame(); // 64 x 1024 x 61, labels included
 * ```
 */
export function createLineScanSimulator(
  input: SimulatedLineScanOptions = {},
  buffers?: FrameBufferPool,
): LineScanSimulator {
  const options = resolveSimOptions(input);
  const { width, wavelengths, blockRows, totalRows } = options;
  const bands = wavelengths.length;
  const scene = new BeltScene(options, simRandom(options.seed, GEOMETRY_STREAM));
  const sensor = new SensorModel(options, simRandom(options.seed, SENSOR_STREAM));
  const owner = new Int32Array(width);
  const radius2 = new Float32Array(width);
  const drift = options.drift;
  if (drift?.scenario === 'dead-pixels') {
    const random = simRandom(options.seed, DRIFT_STREAM);
    const rampLines = DRIFT_RAMP_SECONDS * drift.linesPerSecond;
    const dying: DyingElement[] = drawDeadElements(
      width,
      bands,
      DRIFT_MAGNITUDES.deadFraction,
      options.fullScale,
      random,
    ).map((d) => ({ ...d, fromLine: Math.floor(random.uniform() * rampLines) }));
    sensor.setDying(dying);
  }
  const applyDrift = (y: number): void => {
    if (drift === undefined) return;
    const state = driftStateAt(drift.scenario, y / drift.linesPerSecond);
    scene.setMix(state.anomalyRate, state.blackLentilShare);
    scene.setWavelengthShift(state.shiftNm);
    sensor.setDrift(state.lamp, state.lampTilt, state.shiftNm);
  };
  const blocksPerFrame = Math.ceil(totalRows / blockRows);
  const limit = Math.min(
    options.maxBlocks ?? Number.POSITIVE_INFINITY,
    options.frames === undefined ? Number.POSITIVE_INFINITY : options.frames * blocksPerFrame,
  );
  let line = 0;
  let emitted = 0;
  let frameId = 0;
  let rowOffset = 0;

  const beginFrame = (): FrameCapture | undefined => {
    if (emitted >= limit) return undefined;
    const rows = Math.min(blockRows, totalRows - rowOffset);
    // Every value of every line is written when it is sensed: a reused buffer needs no clearing.
    const lease = buffers?.lend(rows * width * bands);
    const data = lease?.data ?? new Float32Array(rows * width * bands);
    const labels = new Uint8Array(rows * width);
    const bodies = new Map<number, { classId: number; pixels: number[] }>();
    let sensed = 0;
    let finished = false;
    return {
      data,
      rows,
      get sensed() {
        return sensed;
      },
      sense: (lines) => {
        const end = Math.min(rows, sensed + Math.max(0, Math.floor(lines)));
        const from = sensed;
        for (; sensed < end; sensed++, line++) {
          applyDrift(line);
          const objects = scene.rasterise(line, owner, radius2);
          sensor.senseLine(line, owner, radius2, objects, scene.belt, data, labels, sensed);
          collectForeignBodies(owner, objects, sensed * width, bodies);
        }
        return end - from;
      },
      finish: (capturedAt) => {
        if (sensed < rows || finished)
          throw new Error(`block finished twice or with ${rows - sensed} lines missing`);
        finished = true;
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
          truth: blockTruth(bodies),
          // Rounded counts (or counts times finite, positive gains): no NaN scan needed.
          finite: true,
          ...(lease === undefined ? {} : { release: lease.release }),
        };
        emitted++;
        rowOffset += rows;
        if (rowOffset >= totalRows) {
          rowOffset = 0;
          frameId++;
        }
        return frame;
      },
    };
  };

  const nextFrame = (capturedAt?: number): CubeFrame | undefined => {
    const capture = beginFrame();
    if (capture === undefined) return undefined;
    capture.sense(capture.rows);
    return capture.finish(capturedAt);
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
    nextFrame,
    beginFrame,
    stats: () => scene.stats(),
  };
}

/** Adds the line's foreign-body pixels (row-major indices from `base`) to `bodies`, by object id. */
function collectForeignBodies(
  owner: Int32Array,
  objects: readonly BeltObject[],
  base: number,
  bodies: Map<number, { classId: number; pixels: number[] }>,
): void {
  for (let x = 0; x < owner.length; x++) {
    const k = owner[x]!;
    if (k < 0) continue;
    const object = objects[k]!;
    if (!isSimAnomaly(object.classId)) continue;
    let body = bodies.get(object.id);
    if (body === undefined) {
      body = { classId: object.classId, pixels: [] };
      bodies.set(object.id, body);
    }
    body.pixels.push(base + x);
  }
}

function blockTruth(bodies: ReadonlyMap<number, { classId: number; pixels: number[] }>): BlockTruth {
  const foreignBodies: ForeignBodyTruth[] = [];
  for (const [objectId, { classId, pixels }] of bodies) {
    foreignBodies.push({ objectId, classId, pixels: Uint32Array.from(pixels) });
  }
  return { foreignBodies };
}
