/**
 * Ground truth beside the stream: where a source that knows it (the simulator) put its foreign
 * bodies in a block. It travels on the block (`CubeFrame.truth`) but no stage reads it to decide:
 * only {@link TruthTally} compares decisions with it, after the fact.
 */

/** One foreign body's pixels in one block. */
export interface ForeignBodyTruth {
  /** The object's id, unique per camera over the stream: an object cut by a block edge keeps its id. */
  readonly objectId: number;
  /** Its class id (the simulator's `SIM_CLASSES`). */
  readonly classId: number;
  /** Its visible pixels in this block, row-major indices `row * width + col`, ascending. */
  readonly pixels: Uint32Array;
}

/** The truth of one block: every foreign body visible in it (none: a clean block). */
export interface BlockTruth {
  readonly foreignBodies: readonly ForeignBodyTruth[];
}
