/**
 * Messages between an {@link OrtWorkerPool} and its workers (`ort-pool-worker.ts`). Chunk
 * spectra travel as transferred `ArrayBuffer`s (moved, not copied; onnxruntime-node rejects
 * SharedArrayBuffer views) and come back with the scores, so the pool recycles them.
 */

/** Element type of a chunk's spectra. */
export type PoolInputType = 'float32' | 'uint16';

/** A small float32 input fed to every chunk run (the centre, τ). */
export interface PoolFeed {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Pool -> worker: create the session of a graph under `key`. */
export interface LoadMessage {
  readonly type: 'load';
  readonly id: number;
  readonly key: string;
  readonly bytes: Uint8Array;
}

/** Pool -> worker: release the session under `key`. */
export interface ReleaseMessage {
  readonly type: 'release';
  readonly id: number;
  readonly key: string;
}

/**
 * A chunk's spectra inside a block held in shared memory: the worker copies them into a buffer
 * of its own (onnxruntime-node takes no SharedArrayBuffer), so the main thread copies nothing.
 */
export interface SharedSpan {
  readonly shared: SharedArrayBuffer;
  /** Byte offset of the chunk's first value in `shared`. */
  readonly byteOffset: number;
}

/** Pool -> worker: score one chunk of `pixels` spectra held in `input` (transferred, or a shared span). */
export interface RunMessage {
  readonly type: 'run';
  readonly id: number;
  readonly key: string;
  readonly input: ArrayBuffer | SharedSpan;
  readonly inputType: PoolInputType;
  readonly pixels: number;
  readonly bands: number;
  /** Scores buffer to write into (transferred; at least `pixels` floats). */
  readonly scores: ArrayBuffer;
  readonly inputName: string;
  readonly scoresName: string;
  readonly feeds: Readonly<Record<string, PoolFeed>>;
  /** Further outputs to return (small: sums, counts). */
  readonly outputs: readonly string[];
}

/** Pool -> worker: answer once started (onnxruntime loaded): the pool's warm-up. */
export interface PingMessage {
  readonly type: 'ping';
  readonly id: number;
}

/** Any message a worker accepts. */
export type PoolRequest = LoadMessage | ReleaseMessage | RunMessage | PingMessage;

/** Worker -> pool: a request finished. */
export interface DoneReply {
  readonly type: 'done';
  readonly id: number;
  /** The run's input buffer, handed back for reuse (runs only). */
  readonly input?: ArrayBuffer;
  /** The scores buffer, filled (runs only). */
  readonly scores?: ArrayBuffer;
  /** The requested further outputs, in request order (runs only). */
  readonly outputs?: readonly Float32Array[];
}

/** Worker -> pool: a request failed (the worker keeps serving). */
export interface FailedReply {
  readonly type: 'failed';
  readonly id: number;
  readonly message: string;
  readonly input?: ArrayBuffer;
  readonly scores?: ArrayBuffer;
}

/** Any message a worker sends. */
export type PoolReply = DoneReply | FailedReply;
