/**
 * The live viewer's state: per camera, the last rendered strips (waterfall history), a time
 * series of threshold and anomaly rate, and counters; fed by the service block by block and
 * read by the HTTP/SSE handler.
 */
import type { DecidedFrame } from '../../core/decision.js';
import type { CubeFrame } from '../../core/frame.js';
import { OptionError } from '../../core/options.js';
import { chooseRgbBands } from '../../report/false-colour.js';
import { LatencyWindow } from '../../telemetry/latency-window.js';
import { StableStretch } from './stable-stretch.js';
import { type RenderedStrip, renderStrip, type StripRenderInput } from './strip-renderer.js';
import { ThresholdSeries } from './threshold-series.js';
import { ViewerInputError } from './viewer-errors.js';
import type {
  CameraSnapshot,
  CameraStatus,
  CameraSummary,
  RecentAnomaly,
  TruthRates,
  ViewerEvent,
  ViewerStrip,
} from './viewer-messages.js';

/** Counters the service knows better than the hub; any field left out keeps its last value. */
export interface ViewerStatusPatch {
  /** Frames dropped so far (e.g. the sum of `cubestream_frames_dropped_total{camera}`). */
  drops?: number;
  /** p99 of capture -> published latency in ms (replaces the hub's own capture -> decision p99). */
  latencyP99Ms?: number;
  /** Compute backend, e.g. `onnxruntime-cpu`, `wasm`. */
  backend?: string;
  /** Model version (default: the one in the last decision). */
  modelVersion?: string;
  /** Blocks waiting in the camera's queue. */
  queueDepth?: number;
  /** False alarms and recall against the source's truth (a simulated camera). */
  truth?: TruthRates;
}

/** Options of {@link ViewerHub}. */
export interface ViewerHubOptions {
  /** Strips kept per camera for the waterfall (default 48). */
  historyStrips?: number;
  /** Strips and status updates per second per camera at most (default 10); more blocks are counted, not drawn. */
  maxUpdatesPerSecond?: number;
  /** Buckets of the threshold / anomaly-rate series kept per camera (default 300). */
  seriesLength?: number;
  /** Width of one series bucket in ms (default 1000: with 300 buckets, five minutes). */
  seriesBucketMs?: number;
  /** Frames wider than this are decimated for the strips (default 640). */
  maxStripWidth?: number;
  /** Cameras tracked at most; blocks of further cameras are ignored (default 32). */
  maxCameras?: number;
  /** Weight of a new block in the running colour stretch, in (0, 1] (default 0.1). */
  stretchSmoothing?: number;
  /** The heatmap shows scores 0..heatRange·τ (default 2). */
  heatRange?: number;
  /** Latency samples kept per camera for the p99 (default 512). */
  latencyWindow?: number;
  /** Clock, epoch ms (default `Date.now`); the rate limit and series buckets use it. */
  now?: () => number;
  /** Read on every status update; its fields override those of {@link ViewerHub.setStatus}. */
  statusProvider?: (cameraId: string) => ViewerStatusPatch | undefined;
  /** Called when a subscriber throws (the hub carries on); default: ignore. */
  onListenerError?: (error: unknown) => void;
  /**
   * Renders a strip's PNGs (default `renderStrip`, in this thread). One returning a promise
   * (`WorkerStripRenderer`) takes the work off the event loop: the strip then joins the history
   * and goes to subscribers when it resolves, in push order; one that fails is dropped and
   * reported to `onRenderError`.
   */
  renderer?: (input: StripRenderInput) => RenderedStrip | Promise<RenderedStrip>;
  /** Called when an asynchronous render fails (the block's strip is left out); default: ignore. */
  onRenderError?: (error: unknown) => void;
}

/** What {@link ViewerHub.push} did with a block. */
export type PushOutcome = 'rendered' | 'skipped' | 'ignored';

/** Recent anomalies kept per camera. */
const RECENT_ANOMALIES = 12;

interface CameraState {
  readonly cameraId: string;
  readonly strips: ViewerStrip[];
  readonly series: ThresholdSeries;
  readonly stretch: StableStretch;
  readonly latencies: LatencyWindow;
  rgbBands: readonly [number, number, number];
  rgbLabel: string;
  width: number;
  bands: number;
  seq: number;
  blocks: number;
  frames: number;
  anomalousBlocks: number;
  stripsRendered: number;
  stripsSkipped: number;
  skippedSinceStrip: number;
  lastFrameId: number;
  lastSeenAt: number;
  threshold: number;
  modelVersion: string;
  lastStripAt: number;
  lastAnomalyStripAt: number;
  lastStatusAt: number;
  statusTimer: NodeJS.Timeout | undefined;
  recentAnomalies: RecentAnomaly[];
}

function positiveInt(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1)
    throw new OptionError('viewer', option, v, 'must be a positive integer');
  return v;
}

function positiveNumber(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v > 0)) throw new OptionError('viewer', option, v, 'must be a positive number');
  return v;
}

function rgbLabelOf(frame: CubeFrame, bands: readonly [number, number, number]): string {
  const names = ['R', 'G', 'B'];
  return bands
    .map((b, c) =>
      frame.wavelengthUnits === 'nm'
        ? `${names[c]} ${Math.round(frame.wavelengths[b] as number)} nm`
        : `${names[c]} band ${b}`,
    )
    .join(' · ');
}

function checkPair(frame: CubeFrame, decided: DecidedFrame): void {
  for (const field of ['cameraId', 'frameId', 'rowOffset', 'height', 'width'] as const) {
    if (frame[field] !== decided[field]) {
      throw new ViewerInputError(
        `decided.${field}`,
        `${String(decided[field])} does not match the frame's ${String(frame[field])}`,
      );
    }
  }
  const pixels = frame.height * frame.width;
  if (frame.data.length !== pixels * frame.bands) {
    throw new ViewerInputError(
      'frame.data',
      `has ${frame.data.length} values, expected ${frame.height}x${frame.width}x${frame.bands}`,
    );
  }
  for (const field of ['mask', 'scores'] as const) {
    if (decided[field].length !== pixels) {
      throw new ViewerInputError(
        `decided.${field}`,
        `has ${decided[field].length} values, expected ${frame.height}x${frame.width} = ${pixels}`,
      );
    }
  }
}

/**
 * Keeps what the live viewer shows, per camera, in bounded memory, and tells subscribers
 * (the SSE handler) about new strips, status changes and new cameras, at most
 * `maxUpdatesPerSecond` strips (plus as many anomalous ones) and status updates per camera.
 *
 * @example
 * ```ts
 * const hub = new ViewerHub({ maxUpdatesPerSecond: 10 });
 * import { startViewerServer } from './viewer-server.js';
 * hub.push({ frame, decided }); // each decided block, with the block it was decided on
 * hub.setStatus('cam1', { backend: 'onnxruntime-cpu', drops: 0 });
 * const server = await startViewerServer({ port: 8080, hub });
 * ```
 */
export class ViewerHub {
  private readonly states = new Map<string, CameraState>();
  private readonly patches = new Map<string, ViewerStatusPatch>();
  private readonly listeners = new Set<(event: ViewerEvent) => void>();
  private readonly historyStrips: number;
  private readonly intervalMs: number;
  private readonly seriesLength: number;
  private readonly seriesBucketMs: number;
  private readonly maxStripWidth: number;
  private readonly maxCameras: number;
  private readonly stretchSmoothing: number;
  private readonly heatRange: number;
  private readonly latencyWindow: number;
  private readonly now: () => number;
  private readonly options: ViewerHubOptions;
  private closed = false;

  /** @throws {@link OptionError} for an option out of range */
  constructor(options: ViewerHubOptions = {}) {
    this.options = options;
    this.historyStrips = positiveInt('historyStrips', options.historyStrips, 48);
    this.intervalMs = 1000 / positiveNumber('maxUpdatesPerSecond', options.maxUpdatesPerSecond, 10);
    this.seriesLength = positiveInt('seriesLength', options.seriesLength, 300);
    this.seriesBucketMs = positiveNumber('seriesBucketMs', options.seriesBucketMs, 1000);
    this.maxStripWidth = positiveInt('maxStripWidth', options.maxStripWidth, 640);
    this.maxCameras = positiveInt('maxCameras', options.maxCameras, 32);
    this.stretchSmoothing = positiveNumber('stretchSmoothing', options.stretchSmoothing, 0.1);
    if (this.stretchSmoothing > 1)
      throw new OptionError('viewer', 'stretchSmoothing', this.stretchSmoothing, 'must be in (0, 1]');
    this.heatRange = positiveNumber('heatRange', options.heatRange, 2);
    this.latencyWindow = positiveInt('latencyWindow', options.latencyWindow, 512);
    this.now = options.now ?? Date.now;
  }

  /**
   * Takes one decided block (call it after the decision, while `frame.data` is alive). Counts it,
   * adds it to the series and, unless the camera's update rate is spent, renders its strips.
   * An anomalous block has its own rate budget, so a throttled stream still shows anomalies.
   *
   * @returns `rendered`, `skipped` (rate limit), or `ignored` (closed hub, or a camera beyond `maxCameras`)
   * @throws {@link ViewerInputError} when `decided` does not belong to `frame` or sizes differ
   */
  push(input: { frame: CubeFrame; decided: DecidedFrame }): PushOutcome {
    const { frame, decided } = input;
    checkPair(frame, decided);
    if (this.closed) return 'ignored';
    let state = this.states.get(frame.cameraId);
    const isNew = state === undefined;
    if (state === undefined) {
      if (this.states.size >= this.maxCameras) return 'ignored';
      state = this.createState(frame);
      this.states.set(frame.cameraId, state);
    }
    const now = this.now();
    const decision = decided.decision;
    state.blocks += 1;
    if (frame.frameId !== state.lastFrameId) state.frames += 1;
    state.lastFrameId = frame.frameId;
    state.lastSeenAt = now;
    state.threshold = decided.threshold;
    state.modelVersion = decision.modelVersion;
    state.width = frame.width;
    state.bands = frame.bands;
    if (decision.anomalous) state.anomalousBlocks += 1;
    const latency = decision.decidedAt - frame.capturedAt;
    if (Number.isFinite(latency) && latency >= 0) {
      state.latencies.add(latency);
    }
    state.series.add(now, {
      threshold: decided.threshold,
      anomalousPixels: decision.anomalousPixels,
      pixels: decision.pixels,
      anomalous: decision.anomalous,
      maxScore: decision.maxScore,
    });

    const due =
      now - state.lastStripAt >= this.intervalMs ||
      (decision.anomalous && now - state.lastAnomalyStripAt >= this.intervalMs);
    let strip: ViewerStrip | undefined;
    if (due) {
      const rendered = this.render(state, frame, decided);
      if (rendered instanceof Promise) {
        rendered.then(
          (late) => {
            if (this.closed) return;
            this.addStrip(state, late);
            this.emit({ type: 'strip', cameraId: state.cameraId, strip: late });
          },
          (error: unknown) => this.options.onRenderError?.(error),
        );
      } else {
        strip = rendered;
        this.addStrip(state, strip);
      }
      state.stripsRendered += 1;
      state.skippedSinceStrip = 0;
      state.lastStripAt = now;
      if (decision.anomalous) state.lastAnomalyStripAt = now;
    } else {
      state.stripsSkipped += 1;
      state.skippedSinceStrip += 1;
    }
    if (decision.anomalous) {
      const largest = decision.blobs.reduce((m, b) => Math.max(m, b.area), 0);
      state.recentAnomalies.unshift({
        frameId: frame.frameId,
        rowOffset: frame.rowOffset,
        decidedAt: decision.decidedAt,
        anomalousPixels: decision.anomalousPixels,
        maxScore: decision.maxScore,
        blobs: decision.blobs.length,
        largestBlob: largest,
        shown: due,
      });
      if (state.recentAnomalies.length > RECENT_ANOMALIES) state.recentAnomalies.pop();
    }
    if (strip !== undefined) this.emit({ type: 'strip', cameraId: state.cameraId, strip });
    if (isNew) this.emit({ type: 'cameras', cameras: this.cameras() });
    this.requestStatus(state);
    return due ? 'rendered' : 'skipped';
  }

  /**
   * Sets counters the service owns (drops, latency p99, backend, ...) for a camera; a camera not
   * seen yet gets them with its first block.
   */
  setStatus(cameraId: string, patch: ViewerStatusPatch): void {
    if (this.closed) return;
    const known = this.patches.get(cameraId);
    if (known === undefined && this.patches.size >= this.maxCameras && !this.states.has(cameraId)) return;
    this.patches.set(cameraId, { ...known, ...patch });
    const state = this.states.get(cameraId);
    if (state !== undefined) this.requestStatus(state);
  }

  /** The cameras seen so far, sorted by id. */
  cameras(): CameraSummary[] {
    return [...this.states.values()]
      .map((s) => ({
        cameraId: s.cameraId,
        width: s.width,
        bands: s.bands,
        blocks: s.blocks,
        anomalousBlocks: s.anomalousBlocks,
        lastSeenAt: s.lastSeenAt,
        modelVersion: s.modelVersion,
      }))
      .sort((a, b) => (a.cameraId < b.cameraId ? -1 : a.cameraId > b.cameraId ? 1 : 0));
  }

  /** Counters of one camera, or undefined for a camera not seen. */
  status(cameraId: string): CameraStatus | undefined {
    const state = this.states.get(cameraId);
    return state === undefined ? undefined : this.statusOf(state);
  }

  /** Everything needed to draw a camera from scratch (strips and series oldest first). */
  snapshot(cameraId: string): CameraSnapshot | undefined {
    const state = this.states.get(cameraId);
    if (state === undefined) return undefined;
    return {
      cameraId,
      strips: [...state.strips],
      series: state.series.points(),
      status: this.statusOf(state),
    };
  }

  /**
   * Calls `listener` for every strip, status update and camera-list change until the returned
   * function is called.
   */
  subscribe(listener: (event: ViewerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /** Stops pending status timers and drops subscribers; later pushes are ignored. */
  close(): void {
    this.closed = true;
    for (const state of this.states.values()) {
      if (state.statusTimer !== undefined) clearTimeout(state.statusTimer);
      state.statusTimer = undefined;
    }
    this.listeners.clear();
  }

  private createState(frame: CubeFrame): CameraState {
    const rgbBands = chooseRgbBands(frame.wavelengths, frame.wavelengthUnits);
    return {
      cameraId: frame.cameraId,
      strips: [],
      series: new ThresholdSeries(this.seriesLength, this.seriesBucketMs),
      stretch: new StableStretch({ smoothing: this.stretchSmoothing }),
      latencies: new LatencyWindow(this.latencyWindow),
      rgbBands,
      rgbLabel: rgbLabelOf(frame, rgbBands),
      width: frame.width,
      bands: frame.bands,
      seq: 0,
      blocks: 0,
      frames: 0,
      anomalousBlocks: 0,
      stripsRendered: 0,
      stripsSkipped: 0,
      skippedSinceStrip: 0,
      lastFrameId: -1,
      lastSeenAt: 0,
      threshold: Number.NaN,
      modelVersion: '',
      lastStripAt: Number.NEGATIVE_INFINITY,
      lastAnomalyStripAt: Number.NEGATIVE_INFINITY,
      lastStatusAt: Number.NEGATIVE_INFINITY,
      statusTimer: undefined,
      recentAnomalies: [],
    };
  }

  private addStrip(state: CameraState, strip: ViewerStrip): void {
    state.strips.push(strip);
    if (state.strips.length > this.historyStrips) state.strips.shift();
  }

  /** The block's strip, or its promise when the renderer works asynchronously. */
  private render(
    state: CameraState,
    frame: CubeFrame,
    decided: DecidedFrame,
  ): ViewerStrip | Promise<ViewerStrip> {
    const rgbBands = chooseRgbBands(frame.wavelengths, frame.wavelengthUnits);
    if (rgbBands.join() !== state.rgbBands.join()) {
      state.rgbBands = rgbBands;
      state.rgbLabel = rgbLabelOf(frame, rgbBands);
    }
    const pixels = frame.height * frame.width;
    const bounds = state.stretch.update(frame.data, pixels, frame.bands, rgbBands, decided.mask);
    const decision = decided.decision;
    const heatMax =
      Number.isFinite(decided.threshold) && decided.threshold > 0
        ? this.heatRange * decided.threshold
        : Number.isFinite(decision.maxScore) && decision.maxScore > 0
          ? decision.maxScore
          : 1;
    const rendered = (this.options.renderer ?? renderStrip)({
      frame,
      decided,
      rgbBands,
      bounds,
      heatMax,
      maxWidth: this.maxStripWidth,
    });
    state.seq += 1;
    const seq = state.seq;
    const skippedBefore = state.skippedSinceStrip;
    const toStrip = (done: RenderedStrip): ViewerStrip => ({
      seq,
      cameraId: frame.cameraId,
      frameId: frame.frameId,
      rowOffset: frame.rowOffset,
      totalRows: frame.totalRows,
      rows: frame.height,
      width: frame.width,
      decimation: done.decimation,
      imageWidth: done.imageWidth,
      imageHeight: done.imageHeight,
      capturedAt: frame.capturedAt,
      decidedAt: decision.decidedAt,
      threshold: decided.threshold,
      anomalous: decision.anomalous,
      anomalousPixels: decision.anomalousPixels,
      pixels: decision.pixels,
      maxScore: decision.maxScore,
      blobs: decision.blobs.map((b) => ({ ...b })),
      skippedBefore,
      rgb: `data:image/png;base64,${done.rgbPng.toString('base64')}`,
      heat: `data:image/png;base64,${done.heatPng.toString('base64')}`,
      heatMax,
    });
    return rendered instanceof Promise ? rendered.then(toStrip) : toStrip(rendered);
  }

  private statusOf(state: CameraState): CameraStatus {
    const patch = { ...this.patches.get(state.cameraId), ...this.options.statusProvider?.(state.cameraId) };
    return {
      cameraId: state.cameraId,
      blocks: state.blocks,
      frames: state.frames,
      anomalousBlocks: state.anomalousBlocks,
      stripsRendered: state.stripsRendered,
      stripsSkipped: state.stripsSkipped,
      lastFrameId: state.lastFrameId,
      lastSeenAt: state.lastSeenAt,
      threshold: state.threshold,
      modelVersion: patch.modelVersion ?? state.modelVersion,
      width: state.width,
      bands: state.bands,
      rgbBands: state.rgbBands,
      rgbLabel: state.rgbLabel,
      latencyP99Ms: patch.latencyP99Ms ?? state.latencies.p99() ?? null,
      drops: patch.drops ?? null,
      backend: patch.backend ?? null,
      queueDepth: patch.queueDepth ?? null,
      truth: patch.truth ?? null,
      recentAnomalies: [...state.recentAnomalies],
    };
  }

  /** Emits the camera's status now when its rate allows, else once when it does. */
  private requestStatus(state: CameraState): void {
    if (state.statusTimer !== undefined) return;
    const wait = state.lastStatusAt + this.intervalMs - this.now();
    if (wait <= 0) {
      this.emitStatus(state);
      return;
    }
    state.statusTimer = setTimeout(() => {
      state.statusTimer = undefined;
      if (!this.closed) this.emitStatus(state);
    }, Math.ceil(wait));
    state.statusTimer.unref();
  }

  private emitStatus(state: CameraState): void {
    state.lastStatusAt = this.now();
    this.emit({
      type: 'status',
      cameraId: state.cameraId,
      status: this.statusOf(state),
      point: state.series.latest(),
    });
  }

  private emit(event: ViewerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.options.onListenerError?.(error);
      }
    }
  }
}
