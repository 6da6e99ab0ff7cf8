/**
 * The viewer's render worker: turns {@link StripRenderRequest}s into PNG strips with
 * `renderStrip`, off the main thread (started by `WorkerStripRenderer`).
 */
import { parentPort } from 'node:worker_threads';
import type { StripRenderReply, StripRenderRequest } from './strip-render-messages.js';
import { renderStrip } from './strip-renderer.js';

const port = parentPort;
if (port === null) throw new Error('strip-render-worker must run as a worker thread');

port.on('message', (request: StripRenderRequest) => {
  let reply: StripRenderReply;
  try {
    const rendered = renderStrip({
      frame: { height: request.height, width: request.width, bands: 3, data: request.rgb },
      decided: { mask: request.mask, scores: request.scores },
      rgbBands: [0, 1, 2],
      bounds: request.bounds,
      heatMax: request.heatMax,
      maxWidth: request.maxWidth,
    });
    reply = {
      id: request.id,
      ok: true,
      rgbPng: rendered.rgbPng,
      heatPng: rendered.heatPng,
      imageWidth: rendered.imageWidth,
      imageHeight: rendered.imageHeight,
      decimation: rendered.decimation,
    };
  } catch (error) {
    reply = { id: request.id, ok: false, message: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
