/**
 * What the viewer sends to the page: the JSON bodies of `GET /viewer/cameras`,
 * `GET /viewer/snapshot` and the Server-Sent Events of `GET /viewer/events`.
 */
import type { Blob } from '../../core/decision.js';

/**
 * One rendered row block of the waterfall: a false-colour strip (mask tinted in) and a score
 * heatmap strip, both PNG data URLs of `imageWidth x imageHeight` pixels, plus the decision's
 * blobs in whole-frame coordinates (the page draws their boxes; divide by `decimation`).
 */
export interface ViewerStrip {
  /** Per camera, increasing by one for each rendered strip. */
  readonly seq: number;
  readonly cameraId: string;
  readonly frameId: number;
  /** First row of the block within its frame. */
  readonly rowOffset: number;
  readonly totalRows: number;
  /** Rows of the block (before decimation). */
  readonly rows: number;
  /** Pixels per row of the frame (before decimation). */
  readonly width: number;
  /** Each image pixel covers `decimation x decimation` frame pixels (1 = full resolution). */
  readonly decimation: number;
  readonly imageWidth: number;
  readonly imageHeight: number;
  readonly capturedAt: number;
  readonly decidedAt: number;
  readonly threshold: number;
  readonly anomalous: boolean;
  readonly anomalousPixels: number;
  readonly pixels: number;
  readonly maxScore: number;
  /** Decision blobs, `x`/`y` in whole-frame pixels (y includes `rowOffset`). */
  readonly blobs: readonly Blob[];
  /** Blocks of this camera that were not rendered (throttled) since the previous strip. */
  readonly skippedBefore: number;
  /** `data:image/png;base64,...`: false colour with the anomaly mask tinted in. */
  readonly rgb: string;
  /** `data:image/png;base64,...`: scores on inferno over `[0, heatMax]`. */
  readonly heat: string;
  /** Score drawn at the top of the heatmap colour scale (e.g. 2τ). */
  readonly heatMax: number;
}

/** One bucket of the threshold / anomaly-rate time series (every block counts, rendered or not). */
export interface SeriesPoint {
  /** Bucket start, epoch ms. */
  readonly t: number;
  /** Threshold τ of the last block in the bucket. */
  readonly threshold: number;
  /** Anomalous pixels / pixels over the bucket's blocks. */
  readonly pixelRate: number;
  /** Blocks in the bucket. */
  readonly blocks: number;
  /** Blocks judged anomalous in the bucket. */
  readonly anomalousBlocks: number;
  /** Highest score in the bucket. */
  readonly maxScore: number;
}

/** An anomalous block, kept in a short list whether or not its strip was rendered. */
export interface RecentAnomaly {
  readonly frameId: number;
  readonly rowOffset: number;
  readonly decidedAt: number;
  readonly anomalousPixels: number;
  readonly maxScore: number;
  readonly blobs: number;
  /** Largest blob area in pixels (0 without blobs). */
  readonly largestBlob: number;
  /** Whether a strip of this block is in the waterfall (false when throttled away). */
  readonly shown: boolean;
}

/** Counters and settings of one camera, shown beside the waterfall. */
export interface CameraStatus {
  readonly cameraId: string;
  /** Row blocks received. */
  readonly blocks: number;
  /** Frames received (a frame's blocks share a `frameId`). */
  readonly frames: number;
  readonly anomalousBlocks: number;
  readonly stripsRendered: number;
  /** Blocks not rendered because of the update-rate limit (they still count in the series). */
  readonly stripsSkipped: number;
  readonly lastFrameId: number;
  /** Epoch ms of the last block. */
  readonly lastSeenAt: number;
  readonly threshold: number;
  readonly modelVersion: string;
  /** Pixels per row. */
  readonly width: number;
  readonly bands: number;
  /** Bands shown as R, G, B. */
  readonly rgbBands: readonly [number, number, number];
  /** e.g. `R 641 nm · G 550 nm · B 462 nm` or `R band 45 · G band 30 · B band 15`. */
  readonly rgbLabel: string;
  /** p99 of capture -> decision latency (ms): pushed by the service, else measured on the blocks. */
  readonly latencyP99Ms: number | null;
  /** Frames dropped (pushed by the service via `setStatus`). */
  readonly drops: number | null;
  /** Compute backend, e.g. `onnxruntime-cpu`, `wasm` (pushed by the service). */
  readonly backend: string | null;
  /** Queue depth (pushed by the service). */
  readonly queueDepth: number | null;
  /** False alarms and recall against the source's truth, when it knows it (a simulated camera); else null. */
  readonly truth: TruthRates | null;
  /** Newest first, at most 12. */
  readonly recentAnomalies: readonly RecentAnomaly[];
}

/** Live false-alarm and recall figures (`TruthTally`); a rate is null until it has a denominator. */
export interface TruthRates {
  /** Clean blocks flagged / clean blocks. */
  readonly falseAlarmRate: number | null;
  /** Foreign bodies found / present. */
  readonly recall: number | null;
}

/** A row of `GET /viewer/cameras`. */
export interface CameraSummary {
  readonly cameraId: string;
  readonly width: number;
  readonly bands: number;
  readonly blocks: number;
  readonly anomalousBlocks: number;
  readonly lastSeenAt: number;
  readonly modelVersion: string;
}

/** Everything the page needs to draw one camera from scratch (sent on connect). */
export interface CameraSnapshot {
  readonly cameraId: string;
  /** Oldest first. */
  readonly strips: readonly ViewerStrip[];
  /** Oldest first. */
  readonly series: readonly SeriesPoint[];
  readonly status: CameraStatus;
}

/** What a {@link ViewerHub} tells its subscribers. */
export type ViewerEvent =
  | { readonly type: 'strip'; readonly cameraId: string; readonly strip: ViewerStrip }
  | {
      readonly type: 'status';
      readonly cameraId: string;
      readonly status: CameraStatus;
      readonly point: SeriesPoint | null;
    }
  | { readonly type: 'cameras'; readonly cameras: readonly CameraSummary[] };
