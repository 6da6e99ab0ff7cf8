/**
 * The capture sink (`sinks.capture`, docs/capture.md): every anomalous block, and a seeded random
 * sample of the normal ones, saved as an ENVI cube with its score map, predicted mask and
 * decision, in a folder `cubestream train` reads as it is. Off the hot path: {@link CaptureSink.offer}
 * copies the block at once (its buffer goes back to the source right after) and queues the
 * write; a full queue drops the block, counts and logs it, and never makes the pipeline wait.
 * Writes, the disk budget (`maxBytes`, `maxAgeHours`: oldest first) and the periodic rescan run
 * one at a time, in the background.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type DecidedFrame, verdictOf } from '../../../src/core/decision.js';
import { asError } from '../../../src/core/errors.js';
import { seededRandom } from '../../../src/model/seeded-random.js';
import { createLogger, type Logger } from '../../../src/telemetry/logger.js';
import type { CubestreamMetrics } from '../../../src/telemetry/metrics.js';
import {
  CAPTURE_FOLDERS,
  CAPTURE_KINDS,
  type CaptureKind,
  type CaptureSnapshot,
  captureName,
  estimateCaptureBytes,
  snapshotOf,
  writeCaptureFolder,
} from './capture-files.js';
import type { CaptureSettings } from './capture-options.js';
import { CAPTURE_DELETE_REASONS, CaptureStore, type StoredCapture } from './capture-store.js';

/**
 * Why a block meant to be saved was not: the `reason` label of `cubestream_capture_dropped_total`.
 * - `queue_full`: `queueSize` blocks were already waiting to be written;
 * - `no_spectra`: the block carries no spectra (frames assembled from blocks, `assemble: frame`);
 * - `too_large`: one capture of it would not fit in `maxBytes`;
 * - `write_error`: the file system refused (disk full, permissions); logged.
 */
export type CaptureDropReason = (typeof CAPTURE_DROP_REASONS)[number];

/** Every {@link CaptureDropReason}. */
export const CAPTURE_DROP_REASONS = ['queue_full', 'no_spectra', 'too_large', 'write_error'] as const;

/** What became of a block offered to the sink. */
export type CaptureOffer = 'queued' | 'skipped' | 'dropped';

/** The metrics the capture sink updates. */
export type CaptureSinkMetrics = Pick<
  CubestreamMetrics,
  'captures' | 'captureDropped' | 'captureDeleted' | 'captureBytes'
>;

/** What the capture sink needs besides its settings. */
export interface CaptureSinkContext {
  readonly logger?: Logger;
  readonly metrics?: CaptureSinkMetrics;
  /** Cameras whose series start at 0 (the service's configured cameras). */
  readonly cameraIds?: readonly string[];
  /** The clock (epoch ms) of the age budget and the log throttle; default `Date.now`. */
  readonly now?: () => number;
  /** How often the folder is rescanned and the budget applied (ms); default 60 000; 0: never. */
  readonly sweepIntervalMs?: number;
}

/** A drop is logged as a warning at most this often per camera and reason (ms); the rest are counted. */
const DROP_LOG_INTERVAL_MS = 60_000;

/** Default of {@link CaptureSinkContext.sweepIntervalMs}. */
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;

/**
 * Saves decided blocks to a capture folder under a disk budget.
 *
 * @example
 * ```ts
 * import { CaptureSettingsSchema } from './capture-options.js';
 * const capture = new CaptureSink(CaptureSettingsSchema.parse({ dir: 'captures' }), { logger, metrics });
 * await capture.open(); // scans what earlier runs left
 * capture.offer(decided); // before decided.release?.()
 * await capture.close();
 * ```
 */
export class CaptureSink {
  readonly #settings: CaptureSettings;
  readonly #log: Logger;
  readonly #metrics: CaptureSinkMetrics | undefined;
  readonly #now: () => number;
  readonly #sweepIntervalMs: number;
  readonly #random: () => number;
  readonly #store: CaptureStore;
  /** The one chain of file-system work: writes, evictions, rescans. */
  #work: Promise<void> = Promise.resolve();
  /** Blocks copied and not written yet. */
  #pending = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #lastDropLog = new Map<string, { at: number; since: number }>();

  /**
   * @param settings - the `sinks.capture` settings, defaults filled in
   * @param context - logger, metrics, cameras, clock
   */
  constructor(settings: CaptureSettings, context: CaptureSinkContext = {}) {
    this.#settings = settings;
    this.#log = context.logger ?? createLogger({ level: 'silent' });
    this.#metrics = context.metrics;
    this.#now = context.now ?? Date.now;
    this.#sweepIntervalMs = context.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
    this.#random = seededRandom(settings.seed);
    const metrics = this.#metrics;
    this.#store = new CaptureStore({
      dir: settings.dir,
      maxBytes: settings.maxBytes,
      maxAgeMs: settings.maxAgeHours * 3_600_000,
      now: this.#now,
      onBytes: (bytes) => metrics?.captureBytes.set(bytes),
      onDeleted: (reason, capture) => {
        metrics?.captureDeleted.inc({ reason });
        this.#log.debug({ reason, path: capture.path, bytes: capture.bytes }, 'capture deleted (budget)');
      },
    });
    if (metrics !== undefined) {
      for (const reason of CAPTURE_DELETE_REASONS) metrics.captureDeleted.inc({ reason }, 0);
      metrics.captureBytes.set(0);
      for (const camera of context.cameraIds ?? []) this.#initCamera(camera);
    }
  }

  /** The capture root. */
  get dir(): string {
    return this.#settings.dir;
  }

  /** Bytes of captures on disk, as last counted. */
  get bytes(): number {
    return this.#store.bytes;
  }

  /** Blocks copied and waiting to be written. */
  get pending(): number {
    return this.#pending;
  }

  /** The captures on disk, oldest first, as last counted. */
  captures(): readonly StoredCapture[] {
    return this.#store.list();
  }

  /**
   * Creates the folder, indexes what earlier runs left (deleting what the budget no longer
   * allows and half-written captures) and starts the periodic rescan.
   *
   * @throws the file system's error when the folder cannot be created or read
   */
  async open(): Promise<void> {
    await this.#store.scan();
    this.#log.info(
      { dir: this.#settings.dir, captures: this.#store.list().length, bytes: this.#store.bytes },
      'capture folder ready',
    );
    if (this.#sweepIntervalMs > 0 && this.#timer === undefined) {
      this.#timer = setInterval(() => void this.sweep(), this.#sweepIntervalMs);
      this.#timer.unref();
    }
  }

  /**
   * Takes a decided block if it is to be saved: anomalous ones (with `anomalous`), normal ones
   * at the `normalSample` rate; `unknown` ones never (they hold no scores). Copies what it needs
   * before returning, so the block's buffer may be released at once. Never throws, never waits.
   *
   * @returns `queued`, `skipped` (not to be saved) or `dropped` (counted)
   */
  offer(decided: DecidedFrame): CaptureOffer {
    try {
      const kind = this.#kindToSave(decided);
      if (kind === undefined) return 'skipped';
      const camera = decided.cameraId;
      if (this.#pending >= this.#settings.queueSize) return this.#drop(camera, 'queue_full');
      const snapshot = snapshotOf(decided, kind);
      if (snapshot === undefined) return this.#drop(camera, 'no_spectra');
      this.#pending += 1;
      this.#enqueue(async () => {
        try {
          await this.#write(snapshot);
        } finally {
          this.#pending -= 1;
        }
      });
      return 'queued';
    } catch (error) {
      this.#log.warn({ err: error, camera: decided.cameraId, frameId: decided.frameId }, 'capture failed');
      return this.#drop(decided.cameraId, 'write_error');
    }
  }

  /** Rescans the folder (captures moved or deleted by hand drop out) and applies the budget. */
  sweep(): Promise<void> {
    return this.#enqueue(() => this.#store.scan());
  }

  /** Resolves once every block queued so far is written (or dropped). */
  idle(): Promise<void> {
    return this.#work;
  }

  /**
   * Stops taking blocks, writes those queued, stops the rescan. Blocks offered from callbacks
   * already scheduled with `setImmediate` (the service defers its last read of a block behind
   * the viewer that way) are still taken.
   */
  async close(): Promise<void> {
    if (!this.#closed) await new Promise<void>((resolve) => setImmediate(resolve));
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#work;
  }

  #kindToSave(decided: DecidedFrame): CaptureKind | undefined {
    if (this.#closed) return undefined;
    const verdict = verdictOf(decided.decision);
    if (verdict === 'unknown') return undefined;
    if (verdict === 'anomalous') return this.#settings.anomalous ? 'anomalous' : undefined;
    const share = this.#settings.normalSample;
    if (share <= 0) return undefined;
    return share >= 1 || this.#random() < share ? 'normal' : undefined;
  }

  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#work.then(task).catch((error: unknown) => {
      this.#log.warn({ err: error, dir: this.#settings.dir }, 'capture folder upkeep failed');
    });
    this.#work = run;
    return run;
  }

  async #write(snapshot: CaptureSnapshot): Promise<void> {
    const camera = snapshot.cameraId;
    const estimate = estimateCaptureBytes(snapshot);
    if (estimate > this.#settings.maxBytes) {
      this.#drop(camera, 'too_large');
      return;
    }
    const name = captureName(snapshot);
    const staging = path.join(this.#store.incoming, name);
    try {
      await this.#store.makeRoom(estimate);
      await rm(staging, { recursive: true, force: true });
      await writeCaptureFolder(staging, snapshot, this.#settings.dataType);
      const target = await this.#moveIntoPlace(staging, snapshot.kind, camera, name);
      await this.#store.add(target);
      this.#metrics?.captures.inc({ camera, kind: snapshot.kind });
    } catch (error) {
      await rm(staging, { recursive: true, force: true }).catch(() => undefined);
      this.#drop(camera, 'write_error', asError(error));
    }
  }

  /** Renames the written folder to `<dir>/<kind folder>/<camera>/<name>` (`-1`, `-2`, ... when taken). */
  async #moveIntoPlace(staging: string, kind: CaptureKind, camera: string, name: string): Promise<string> {
    const parent = path.join(this.#settings.dir, CAPTURE_FOLDERS[kind], camera);
    await mkdir(parent, { recursive: true });
    for (let attempt = 0; ; attempt++) {
      const target = path.join(parent, attempt === 0 ? name : `${name}-${attempt}`);
      try {
        await rename(staging, target);
        return target;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt >= 99) throw error;
      }
    }
  }

  #initCamera(camera: string): void {
    const metrics = this.#metrics;
    if (metrics === undefined) return;
    for (const kind of CAPTURE_KINDS) metrics.captures.inc({ camera, kind }, 0);
    for (const reason of CAPTURE_DROP_REASONS) metrics.captureDropped.inc({ camera, reason }, 0);
  }

  #drop(camera: string, reason: CaptureDropReason, error?: Error): 'dropped' {
    this.#metrics?.captureDropped.inc({ camera, reason });
    const key = `${camera}\u0000${reason}`;
    const now = this.#now();
    const last = this.#lastDropLog.get(key);
    if (last === undefined || now - last.at >= DROP_LOG_INTERVAL_MS) {
      this.#lastDropLog.set(key, { at: now, since: 0 });
      this.#log.warn(
        {
          camera,
          reason,
          ...(error === undefined ? {} : { err: error }),
          ...(last === undefined ? {} : { droppedSinceLastLog: last.since }),
        },
        reason === 'queue_full'
          ? 'capture dropped: the write queue is full (disk slower than the anomalies come)'
          : reason === 'no_spectra'
            ? 'capture dropped: the block has no spectra (pipeline.decide.assemble must be block)'
            : `capture dropped: ${reason}`,
      );
    } else {
      last.since += 1;
    }
    return 'dropped';
  }
}
