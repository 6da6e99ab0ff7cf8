/**
 * The live viewer (docs/architecture.md §1 `web/`): a hub the service feeds with decided blocks, and HTTP
 * routes (page, camera list, SSE stream) served standalone or mounted on the telemetry server.
 *
 * @example
 * ```ts
 * const hub = new ViewerHub();
 * const viewer = await startViewerServer({ port: 8080, hub });
 * hub.push({ frame, decided });
 * ```
 */

export {
  formatSseComment,
  formatSseMessage,
  type SseCloseReason,
  type SseMessage,
  SseStream,
  type SseStreamOptions,
} from './sse.js';
export { StableStretch, type StableStretchOptions, type StretchBounds } from './stable-stretch.js';
export { resolveAssetsDir, VIEWER_CSP } from './static-assets.js';
export {
  MASK_ALPHA,
  MASK_COLOUR,
  type RenderedStrip,
  renderStrip,
  type StripRenderInput,
} from './strip-renderer.js';
export { VIEWER_COOKIE, ViewerAuth } from './viewer-auth.js';
export { ViewerAssetsNotFoundError, ViewerInputError } from './viewer-errors.js';
export {
  createViewerHandler,
  type ViewerHandler,
  type ViewerHandlerOptions,
  type ViewerHandlerStats,
} from './viewer-handler.js';
export {
  type PushOutcome,
  ViewerHub,
  type ViewerHubOptions,
  type ViewerStatusPatch,
} from './viewer-hub.js';
export { type SnapshotBounds, snapshotJson, stripJson } from './viewer-json.js';
export { DEFAULT_VIEWER_LIMITS, type ViewerLimits } from './viewer-limits.js';
export type {
  CameraSnapshot,
  CameraStatus,
  CameraSummary,
  RecentAnomaly,
  SeriesPoint,
  ViewerEvent,
  ViewerStrip,
} from './viewer-messages.js';
export {
  DEFAULT_VIEWER_PORT,
  startViewerServer,
  type ViewerServer,
  type ViewerServerOptions,
} from './viewer-server.js';
export { WorkerStripRenderer } from './worker-strip-renderer.js';
