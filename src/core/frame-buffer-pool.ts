/**
 * Block buffers a source hands out and gets back: a camera connector that fills a new buffer for
 * every block makes V8 collect garbage often (each block is megabytes of memory outside the heap;
 * the simulated demo camera, 4 MB per block at 10 blocks/s, caused about three full collections a
 * second). A source {@link FrameBufferPool.lend}s a buffer per block and emits the frame with the
 * lease's `release` (`CubeFrame.release`); the consumer done with the block calls it, and the
 * source's next lease of that length reuses the buffer. Buffers never released are simply
 * garbage, as before, so a consumer that keeps frames stays correct.
 *
 * Only buffers this pool handed out and that are out are taken back (a second release of the same
 * buffer, or a foreign one, is ignored); at most `maxFree` wait for reuse.
 *
 * @example
 * ```ts
 * const pool = new FrameBufferPool();
 * const { data, release } = pool.lend(64 * 256 * 61); // fill, emit as a frame's data with its release
 * release();                                          // once the frame's decision is out
 * ```
 */
export class FrameBufferPool {
  readonly #free: Float32Array[] = [];
  readonly #out = new WeakSet<Float32Array>();
  readonly #maxFree: number;
  #allocated = 0;
  #reused = 0;

  constructor(options: { readonly maxFree?: number } = {}) {
    this.#maxFree = Math.max(0, Math.floor(options.maxFree ?? 8));
  }

  /** Buffers created so far. */
  get allocated(): number {
    return this.#allocated;
  }

  /** Acquisitions served by a released buffer. */
  get reused(): number {
    return this.#reused;
  }

  /** A buffer of `length` values: a released one of that length (old contents!) or a new zeroed one. */
  acquire(length: number): Float32Array {
    const index = this.#free.findIndex((buffer) => buffer.length === length);
    let buffer: Float32Array;
    if (index >= 0) {
      buffer = this.#free.splice(index, 1)[0] as Float32Array;
      this.#reused++;
    } else {
      buffer = new Float32Array(length);
      this.#allocated++;
    }
    this.#out.add(buffer);
    return buffer;
  }

  /**
   * A buffer of `length` values (as {@link acquire}) and the one call that hands it back: the
   * first call releases it, later ones do nothing, so a stale call cannot release the buffer
   * again once a later block holds it.
   */
  lend(length: number): { readonly data: Float32Array; readonly release: () => void } {
    const data = this.acquire(length);
    let out = true;
    return {
      data,
      release: () => {
        if (!out) return;
        out = false;
        this.release(data);
      },
    };
  }

  /** Hands a buffer back: nothing may read or keep it any more. Ignored for a buffer not out. */
  release(buffer: Float32Array | Uint16Array): void {
    if (!(buffer instanceof Float32Array) || !this.#out.has(buffer)) return;
    this.#out.delete(buffer);
    if (this.#free.length < this.#maxFree) this.#free.push(buffer);
  }
}
