/**
 * Keeps each camera block between the source and its decision, so that the live viewer can draw
 * the block's pixels next to its mask (decisions carry scores, not spectra). Blocks leave when
 * decided, rejected or dropped; the register is bounded, so a block that never comes back (it
 * cannot, but a bound costs nothing) is evicted oldest first.
 */
import type { CubeFrame } from '../../core/frame.js';

/** The identity of a block: camera, frame id, first row. */
function keyOf(block: Pick<CubeFrame, 'cameraId' | 'frameId' | 'rowOffset'>): string {
  return `${block.cameraId}\u0000${block.frameId}\u0000${block.rowOffset}`;
}

/**
 * Blocks waiting for their decision.
 *
 * @example
 * ```ts
 * const register = new FrameRegister(64);
 * register.hold(block);               // as it enters the pipeline
 * const frame = register.take(decided); // when its decision comes out
 * ```
 */
export class FrameRegister {
  private readonly blocks = new Map<string, CubeFrame>();

  /** @param capacity - blocks held at most (the oldest is evicted beyond it) */
  constructor(private readonly capacity: number) {}

  /** Blocks held. */
  get size(): number {
    return this.blocks.size;
  }

  /** Holds a block until {@link take} or {@link release}. */
  hold(block: CubeFrame): void {
    this.blocks.set(keyOf(block), block);
    while (this.blocks.size > this.capacity) {
      const oldest = this.blocks.keys().next().value;
      if (oldest === undefined) break;
      this.blocks.delete(oldest);
    }
  }

  /** Removes and returns the block with this identity, if held. */
  take(block: Pick<CubeFrame, 'cameraId' | 'frameId' | 'rowOffset'>): CubeFrame | undefined {
    const key = keyOf(block);
    const held = this.blocks.get(key);
    this.blocks.delete(key);
    return held;
  }

  /** Forgets a block (rejected or dropped). */
  release(block: Pick<CubeFrame, 'cameraId' | 'frameId' | 'rowOffset'>): void {
    this.blocks.delete(keyOf(block));
  }

  /** Forgets every block. */
  clear(): void {
    this.blocks.clear();
  }
}
