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
 * buffer, or a foreign one, is ignored); at most `maxFree` wait for reuse, and when they are
 * full a buffer of another length makes room first (the block size changed).
 *
 * A fresh buffer costs its page faults on first write: filling a new 29 MB block (32 x 1024 x 224
 * float32) line by line ran at 2.9 ms a line instead of 0.34 ms with a written one. A source
 * whose first blocks must keep pace with a camera {@link FrameBufferPool.prefill}s the pool
 * before it opens.
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

  /**
   * Allocates buffers of `length` values until `count` of that length wait for reuse (at most
   * `maxFree` in all), writing every value so that the memory is resident before the first block.
   *
   * @returns the buffers added
   * @example
   * ```ts
   * const pool = new FrameBufferPool();
   * pool.prefill(32 * 1024 * 224, 6); // before the camera opens
   * ```
   */
  prefill(length: number, count: number): number {
    if (!Number.isSafeInteger(length) || length <= 0) return 0;
    let waiting = this.#free.filter((buffer) => buffer.length === length).length;
    let added = 0;
    while (waiting < count && this.#free.length < this.#maxFree) {
      const buffer = new Float32Array(length);
      buffer.fill(0);
      this.#allocated++;
      this.#free.push(buffer);
      waiting++;
      added++;
    }
    return added;
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
    if (this.#free.length >= this.#maxFree) {
      const stale = this.#free.findIndex((waiting) => waiting.length !== buffer.length);
      if (stale >= 0) this.#free.splice(stale, 1);
    }
    if (this.#free.length < this.#maxFree) this.#free.push(buffer);
  }
}
