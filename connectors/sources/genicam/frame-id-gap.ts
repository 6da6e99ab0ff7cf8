/**
 * Lines lost between two GVSP block ids. GigE Vision block ids are 16-bit unless the camera uses
 * GEV 2 extended (64-bit) ids; 0 is invalid and the 16-bit id wraps 65535 -> 1 (A:src/arvgvstream.c).
 */

/** The largest 16-bit block id; an id above it means the camera uses extended ids. */
export const MAX_SHORT_FRAME_ID = 0xffff;

/** A step forward larger than this (16-bit ids) is taken as a counter reset, not a gap. */
const MAX_SHORT_STEP = 0x7fff;

/**
 * How many block ids were skipped from `previous` to `current`: 0 for consecutive ids (65535 ->
 * 1 included), for a repeated id, for an id that went back (a restarted counter), and when either
 * id is 0 (invalid).
 *
 * @example
 * ```ts
 * framesMissing(65534, 2); // 2 (65535 and 1)
 * framesMissing(65535, 1); // 0
 * framesMissing(70000, 70003); // 2 (extended ids)
 * ```
 */
export function framesMissing(previous: number, current: number): number {
  if (previous === 0 || current === 0) return 0;
  if (previous <= MAX_SHORT_FRAME_ID && current <= MAX_SHORT_FRAME_ID) {
    const step = (current - previous + MAX_SHORT_FRAME_ID) % MAX_SHORT_FRAME_ID;
    return step === 0 || step > MAX_SHORT_STEP ? 0 : step - 1;
  }
  return current > previous ? current - previous - 1 : 0;
}

/** A step back of at most this many ids is a late buffer (Aravis hands incomplete ones on late), not a reset. */
export const LATE_BUFFER_WINDOW = 1024;

/**
 * The id to measure the next gap from: `current`, unless it is a late buffer (a few ids behind
 * `previous`), in which case `previous` stays the newest. Without this, a late incomplete buffer
 * would make the next in-order buffer look like a gap and count delivered lines as lost.
 *
 * @example
 * ```ts
 * newestFrameId(100, 98);  // 100 (98 came late)
 * newestFrameId(100, 101); // 101
 * newestFrameId(1, 65535); // 1 (65535 came late, across the wrap)
 * newestFrameId(40000, 5); // 5 (a restarted counter)
 * ```
 */
export function newestFrameId(previous: number, current: number): number {
  if (previous === 0) return current;
  if (current === 0) return previous;
  const back =
    previous <= MAX_SHORT_FRAME_ID && current <= MAX_SHORT_FRAME_ID
      ? (previous - current + MAX_SHORT_FRAME_ID) % MAX_SHORT_FRAME_ID
      : previous - current;
  return back > 0 && back <= LATE_BUFFER_WINDOW ? previous : current;
}
