import type { ChunkRunRequest } from '../chunk-runner.js';

/**
 * Messages between an {@link OrtWorkerPool} and its workers (`ort-pool-worker.ts`). Chunk
 * spectra and scores pass through shared staging areas set up once per worker; each worker
 * copies a chunk into memory of its own before running it (onnxruntime-node rejects
 * SharedArrayBuffer views).
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
 * Where a chunk's spectra are: in the worker's staging area `stage` (copied there by the pool),
 * or in place inside a block held in shared memory (`shared`, from `byteOffset`).
 */
export type ChunkSource =
  | { readonly kind: 'staged' }
  | { readonly kind: 'shared'; readonly shared: SharedArrayBuffer; readonly byteOffset: number };

/**
 * Pool -> worker: the shared buffers of staging area `stage` (sent once, and again when they
 * grow). Spectra go in `input`, the worker leaves a chunk's scores in `scores`. Nothing is
 * transferred per chunk: moving a fresh ArrayBuffer per chunk made V8 collect garbage every few
 * blocks in every thread (external-memory pressure), 5-17 ms pauses in the middle of blocks.
 */
export interface AttachMessage {
  readonly type: 'attach';
  readonly id: number;
  readonly stage: number;
  readonly input: SharedArrayBuffer;
  readonly scores: SharedArrayBuffer;
}

/**
 * Pool -> worker: score one chunk of `pixels` spectra (the request's names, feeds, outputs and
 * prep apply); its scores go to staging area `stage`.
 */
export interface RunMessage
  extends Pick<
    ChunkRunRequest,
    'inputType' | 'bands' | 'inputName' | 'scoresName' | 'feeds' | 'outputs' | 'prep'
  > {
  readonly type: 'run';
  readonly id: number;
  readonly key: string;
  readonly stage: number;
  readonly source: ChunkSource;
  /** Pixels of this chunk. */
  readonly pixels: number;
}

/** Pool -> worker: answer once started (onnxruntime loaded): the pool's warm-up. */
export interface PingMessage {
  readonly type: 'ping';
  readonly id: number;
}

/** Any message a worker accepts. */
export type PoolRequest = LoadMessage | ReleaseMessage | RunMessage | PingMessage | AttachMessage;

/** Worker -> pool: a request finished. */
export interface DoneReply {
  readonly type: 'done';
  readonly id: number;
  /** The requested further outputs, in request order (runs only). */
  readonly outputs?: readonly Float32Array[];
}

/** Worker -> pool: a request failed (the worker keeps serving). */
export interface FailedReply {
  readonly type: 'failed';
  readonly id: number;
  readonly message: string;
}

/** Any message a worker sends. */
export type PoolReply = DoneReply | FailedReply;
