import type { Worker } from 'node:worker_threads';
import { startWorker } from '../../core/start-worker.js';
import type { StripRenderReply, StripRenderRequest } from './strip-render-messages.js';
import type { RenderedStrip, StripRenderInput } from './strip-renderer.js';

/** Longest {@link WorkerStripRenderer.close} waits for renders in flight, ms. */
export const CLOSE_WAIT_MS = 2_000;

/**
 * Renders viewer strips on a worker thread, so that the 4-7 ms a strip takes (PNG encoding,
 * heatmap) stay off the event loop that publishes decisions. Only the three shown bands, the
 * mask and the scores are copied over (a fraction of the block); strips come back in request
 * order. The worker is unref'd: it never keeps the process alive.
 *
 * @example
 * ```ts
 * import { ViewerHub } from './viewer-hub.js';
 * const renderer = new WorkerStripRenderer();
 * const hub = new ViewerHub({ renderer: (input) => renderer.render(input) });
 * // ...
 * await renderer.close();
 * ```
 */
export class WorkerStripRenderer {
  readonly #worker: Worker;
  readonly #pending = new Map<
    number,
    { resolve: (strip: RenderedStrip) => void; reject: (error: Error) => void }
  >();
  #next = 0;
  #closed = false;
  /** Called when the last pending render settles (set while closing). */
  #drained: (() => void) | undefined;

  constructor() {
    this.#worker = startWorker(import.meta.url, 'strip-render-worker');
    this.#worker.unref();
    this.#worker.on('message', (reply: StripRenderReply) => {
      const waiting = this.#pending.get(reply.id);
      if (waiting === undefined) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#drained?.();
      if (reply.ok) {
        waiting.resolve({
          rgbPng: Buffer.from(reply.rgbPng.buffer, reply.rgbPng.byteOffset, reply.rgbPng.byteLength),
          heatPng: Buffer.from(reply.heatPng.buffer, reply.heatPng.byteOffset, reply.heatPng.byteLength),
          imageWidth: reply.imageWidth,
          imageHeight: reply.imageHeight,
          decimation: reply.decimation,
        });
      } else waiting.reject(new Error(`strip render failed: ${reply.message}`));
    });
    this.#worker.on('error', (error) => this.#failAll(error));
    this.#worker.on('exit', () => this.#failAll(new Error('the strip render worker exited')));
  }

  /**
   * Renders a strip as `renderStrip` does (same PNG bytes).
   *
   * @throws {Error} (the promise) when the renderer is closed, the worker fails or exits
   */
  render(input: StripRenderInput): Promise<RenderedStrip> {
    if (this.#closed) return Promise.reject(new Error('the strip renderer is closed'));
    const { frame, decided, rgbBands } = input;
    const pixels = frame.height * frame.width;
    const rgb = new Float32Array(pixels * 3);
    const [r, g, b] = rgbBands;
    const { data, bands } = frame;
    for (let p = 0, base = 0, o = 0; p < pixels; p++, base += bands, o += 3) {
      rgb[o] = data[base + r] as number;
      rgb[o + 1] = data[base + g] as number;
      rgb[o + 2] = data[base + b] as number;
    }
    const mask = Uint8Array.from(decided.mask);
    const scores = Float32Array.from(decided.scores);
    const id = this.#next++;
    const request: StripRenderRequest = {
      id,
      height: frame.height,
      width: frame.width,
      rgb,
      mask,
      scores,
      bounds: input.bounds,
      heatMax: input.heatMax,
      maxWidth: input.maxWidth,
    };
    return new Promise<RenderedStrip>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage(request, [rgb.buffer, mask.buffer, scores.buffer]);
    });
  }

  /**
   * Refuses new renders, lets the ones in flight finish (at most {@link CLOSE_WAIT_MS}), then
   * stops the worker; renders still pending then reject. Terminating the worker in the middle of
   * a render (pngjs's zlib deflate) crashed Node 20 in the worker's cleanup ("close before init",
   * seen once in CI in `cubestream demo`).
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#pending.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => {
          this.#drained = resolve;
        }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    await this.#worker.terminate();
    this.#failAll(new Error('the strip renderer is closed'));
  }

  #failAll(error: Error): void {
    for (const waiting of this.#pending.values()) waiting.reject(error);
    this.#pending.clear();
    this.#drained?.();
  }
}
