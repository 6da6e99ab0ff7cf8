/**
 * One lock, shared by every thread of the process, around Aravis's device list: Aravis's
 * interfaces (`arv_update_device_list`, `arv_get_device_*`, and `arv_camera_new`, which looks the
 * camera up in them) are not thread-safe (Aravis docs, thread-safety.md), and discovery runs on
 * the main thread (`listCameras`) and in every acquisition worker (open, reconnect). The lock is a
 * word of a SharedArrayBuffer that the main thread creates and hands to each worker.
 */

let word: Int32Array | undefined;

function lockWord(): Int32Array {
  word ??= new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  return word;
}

/**
 * The shared memory of this thread's lock, to hand to a worker (which calls {@link adoptDiscoveryLock}).
 *
 * @example
 * ```ts
 * const lock = discoveryLockBuffer(); // post it to the worker
 * ```
 */
export function discoveryLockBuffer(): SharedArrayBuffer {
  return lockWord().buffer as SharedArrayBuffer;
}

/**
 * Makes this thread use the lock of the thread that started it.
 *
 * @example
 * ```ts
 * adoptDiscoveryLock(discoveryLockBuffer()); // in a worker: the buffer its parent posted
 * ```
 */
export function adoptDiscoveryLock(buffer: SharedArrayBuffer): void {
  word = new Int32Array(buffer);
}

const tryTake = (w: Int32Array): boolean => Atomics.compareExchange(w, 0, 0, 1) === 0;

function release(w: Int32Array): void {
  Atomics.store(w, 0, 0);
  Atomics.notify(w, 0);
}

/**
 * Runs `run` holding the lock, blocking this thread while another holds it (for workers, whose
 * thread may block; never on the main thread).
 *
 * @example
 * ```ts
 * const count = withDiscoveryLockSync(() => 1); // e.g. () => aravis.fn.arv_get_n_devices()
 * ```
 */
export function withDiscoveryLockSync<T>(run: () => T): T {
  const w = lockWord();
  while (!tryTake(w)) Atomics.wait(w, 0, 1, 50);
  try {
    return run();
  } finally {
    release(w);
  }
}

/**
 * Runs `run` holding the lock, waiting for it without blocking the event loop (main thread).
 *
 * @example
 * ```ts
 * const n = await withDiscoveryLock(async () => 1);
 * ```
 */
export async function withDiscoveryLock<T>(run: () => Promise<T>): Promise<T> {
  const w = lockWord();
  while (!tryTake(w)) await new Promise((resolve) => setTimeout(resolve, 5));
  try {
    return await run();
  } finally {
    release(w);
  }
}
