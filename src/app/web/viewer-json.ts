/**
 * The JSON the viewer sends, built once per strip and bounded per snapshot: a snapshot holds
 * the newest strips that fit a strip count and a byte budget, whatever the hub's history.
 */
import type { CameraSnapshot, SeriesPoint, ViewerStrip } from './viewer-messages.js';

/** Bounds of {@link snapshotJson}. */
export interface SnapshotBounds {
  /** Newest strips kept at most. */
  readonly maxStrips: number;
  /** UTF-8 bytes of the whole JSON text at most (older strips, then older series points, are left out). */
  readonly maxBytes: number;
}

const stripJsonCache = new WeakMap<ViewerStrip, string>();

/** `JSON.stringify(strip)`, computed once per strip object (strips are immutable once emitted). */
export function stripJson(strip: ViewerStrip): string {
  let json = stripJsonCache.get(strip);
  if (json === undefined) {
    json = JSON.stringify(strip);
    stripJsonCache.set(strip, json);
  }
  return json;
}

/** Bytes of a strip's JSON; the data URLs are ASCII, so this is the string length in practice. */
function bytesOf(text: string): number {
  return Buffer.byteLength(text);
}

/**
 * A camera snapshot as JSON text of at most `bounds.maxBytes` bytes: the newest
 * `bounds.maxStrips` strips that fit (oldest first, as in `CameraSnapshot`), and the series
 * trimmed from its oldest end only when even the strip-less snapshot would not fit.
 *
 * @example
 * ```ts
 * import { ViewerHub } from './viewer-hub.js';
 * const hub = new ViewerHub();
 * hub.push({ frame, decided });
 * const text = snapshotJson(hub.snapshot(frame.cameraId)!, { maxStrips: 24, maxBytes: 2 * 1024 * 1024 });
 * Buffer.byteLength(text) <= 2 * 1024 * 1024; // true
 * ```
 */
export function snapshotJson(
  snapshot: Omit<CameraSnapshot, 'status'> & { status: CameraSnapshot['status'] | null },
  bounds: SnapshotBounds,
): string {
  const head = `{"cameraId":${JSON.stringify(snapshot.cameraId)},"strips":[`;
  const middle = `],"series":`;
  const tail = `,"status":${JSON.stringify(snapshot.status)}}`;
  let series: readonly SeriesPoint[] = snapshot.series;
  let seriesJson = JSON.stringify(series);
  let used = bytesOf(head) + bytesOf(middle) + bytesOf(seriesJson) + bytesOf(tail);
  while (used > bounds.maxBytes && series.length > 0) {
    series = series.slice(Math.ceil(series.length / 2));
    seriesJson = JSON.stringify(series);
    used = bytesOf(head) + bytesOf(middle) + bytesOf(seriesJson) + bytesOf(tail);
  }
  const kept: string[] = [];
  const strips = snapshot.strips;
  for (let i = strips.length - 1; i >= 0 && kept.length < bounds.maxStrips; i--) {
    const json = stripJson(strips[i] as ViewerStrip);
    const cost = bytesOf(json) + (kept.length > 0 ? 1 : 0);
    if (used + cost > bounds.maxBytes) break;
    kept.push(json);
    used += cost;
  }
  kept.reverse();
  return `${head}${kept.join(',')}${middle}${seriesJson}${tail}`;
}
