/**
 * The eject command: the message that tells a sorter's air-jet valves when and where to fire for
 * an anomalous blob (planned by `planEjects` from the `ejector` geometry, sent by every sink that
 * carries ejects: MQTT `<prefix>/<camera>/eject`, NATS `<prefix>.eject.<camera>`, OPC UA
 * `EjectEventType`, Sparkplug `Eject/*`). docs/ejectors.md explains the geometry and timing.
 */

/**
 * One air-jet command: fire `valves` at `fireAt` for `openMs`.
 *
 * @example
 * ```ts
 * const command: EjectCommand = {
 *   cameraId: 'cam0', frameId: 12, blobId: '12:64:0', valves: [3, 4],
 *   fireAt: 1764921600123.5, openMs: 10, budgetMs: 141.2,
 * };
 * ```
 */
export interface EjectCommand {
  /** Camera whose decision the blob came from. */
  readonly cameraId: string;
  /** Frame id of that decision. */
  readonly frameId: number;
  /**
   * `<frameId>:<rowOffset>:<index>`, `index` being the blob's position in the decision's `blobs`
   * (raster order, counting the blobs too small to eject): the same blob of the same decision
   * always gets the same id, and no two blobs of one camera's decisions share one until its
   * frame ids restart.
   */
  readonly blobId: string;
  /** Valve indices in `[0, valveCount)` whose span across the belt overlaps the blob's columns, ascending. */
  readonly valves: number[];
  /**
   * When the blob's leading edge (its first row) reaches the valve bar: epoch ms (`epoch-ms`), or
   * the encoder line (`encoder-line`), counted from the camera's row 0; see `planEjects`.
   */
  readonly fireAt: number;
  /** How long to keep the valves open, ms: the longer of `valveOpenMs` and the blob's passage. */
  readonly openMs: number;
  /**
   * Latency budget left when planned, ms: (time the leading edge reaches the valves) - now. In
   * `encoder-line` mode that time is estimated from the line rate. Negative for a late eject.
   */
  readonly budgetMs: number;
}

/** Value of the `schema` field of every eject message. */
export const EJECT_SCHEMA = 'cubestream.eject/1';

/**
 * Serialises an eject command as the JSON of docs/wire-format.md §2b: `schema` first, then the
 * command's fields in a fixed order, so a PLC can parse it with a fixed layout.
 *
 * @example
 * ```ts
 * encodeEject({ cameraId: 'cam0', frameId: 12, blobId: '12:64:0', valves: [3, 4], fireAt: 1764921600123, openMs: 10, budgetMs: 141 });
 * // '{"schema":"cubestream.eject/1","cameraId":"cam0","frameId":12,"blobId":"12:64:0","valves":[3,4],"fireAt":1764921600123,"openMs":10,"budgetMs":141}'
 * ```
 */
export function encodeEject(eject: EjectCommand): string {
  return JSON.stringify({
    schema: EJECT_SCHEMA,
    cameraId: eject.cameraId,
    frameId: eject.frameId,
    blobId: eject.blobId,
    valves: eject.valves,
    fireAt: eject.fireAt,
    openMs: eject.openMs,
    budgetMs: eject.budgetMs,
  });
}
