/**
 * The service's side of a camera source's reports (kind `genicam`): the camera opened with its
 * features read back (info), lines lost on the way (counted, and logged without flooding), and
 * warnings at start (stale references).
 */
import type { DroppedLines } from '../../../connectors/sources/genicam/genicam-source.js';
import type { SourceDropReason } from '../../core/drop-reasons.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SourceHooks } from './sources.js';

/** Least time between two `warn` lines about gaps; the ones in between log at debug. */
const GAP_WARN_INTERVAL_MS = 1_000;

/** Counts lost lines (`frames_dropped_total{camera,reason}`). */
export type CountDroppedLines = (camera: string, reason: SourceDropReason, lines: number) => void;

/**
 * The hooks of a camera source for the service: `onCameraOpened` logs the camera and every
 * feature read back; `onDropped` counts the lines and logs the first incomplete line at warn
 * (later ones at debug), and each gap with the ids around it and the missing count (at warn at
 * most once a second); `onWarning` logs at warn.
 *
 * @example
 * ```ts
 * import { createLogger } from '../../telemetry/logger.js';
 * const hooks = cameraHooks(createLogger(), (camera, reason, lines) => console.log(camera, reason, lines));
 * ```
 */
export function cameraHooks(
  log: Logger,
  count: CountDroppedLines,
  onLinesLost?: (event: DroppedLines) => void,
): Pick<SourceHooks, 'onCameraOpened' | 'onDropped' | 'onWarning'> {
  let warnedIncomplete = false;
  let lastGapWarning = Number.NEGATIVE_INFINITY;
  const dropped = (event: DroppedLines): void => {
    count(event.cameraId, event.reason, event.lines);
    onLinesLost?.(event);
    const details = { camera: event.cameraId, lines: event.lines, frameId: event.frameId };
    if (event.reason === 'gap') {
      const now = Date.now();
      const level = now - lastGapWarning >= GAP_WARN_INTERVAL_MS ? 'warn' : 'debug';
      if (level === 'warn') lastGapWarning = now;
      log[level](
        { ...details, afterFrameId: event.afterFrameId, missing: event.lines },
        `camera frame ids ${event.afterFrameId} -> ${event.frameId}: ${event.lines} lines never arrived (counted in frames_dropped_total{reason="gap"})`,
      );
      return;
    }
    const fields = {
      ...details,
      status: event.status,
      ...(event.error === undefined ? {} : { err: event.error }),
    };
    if (warnedIncomplete) {
      log.debug(fields, 'camera line incomplete');
      return;
    }
    warnedIncomplete = true;
    log.warn(
      fields,
      'camera lines lost: incomplete buffers (counted in frames_dropped_total{reason="incomplete"})',
    );
  };
  return {
    onCameraOpened: (camera, reconnected) =>
      log.info(
        {
          camera: camera.id,
          vendor: camera.vendor,
          model: camera.model,
          serial: camera.serial,
          address: camera.address,
          width: camera.width,
          height: camera.height,
          pixelFormat: camera.pixelFormat,
          payloadBytes: camera.payloadBytes,
          features: camera.features,
          reconnected,
        },
        reconnected ? 'camera reconnected, features re-applied' : 'camera opened, features read back',
      ),
    onDropped: dropped,
    onWarning: (message) => log.warn(message),
  };
}
