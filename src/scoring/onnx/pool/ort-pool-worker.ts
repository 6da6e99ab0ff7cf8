/**
 * Worker thread of an {@link OrtWorkerPool}: one single-threaded onnxruntime-node session per
 * graph key, scoring the chunks the pool stages in shared memory. onnxruntime-node takes no
 * SharedArrayBuffer views, so each chunk is copied into (and its scores out of) buffers of this
 * worker's own, allocated once and grown when needed.
 */
import { parentPort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { BandPrepKernel } from '../kernels/band-prep.js';
import type { PoolReply, PoolRequest, RunMessage } from './pool-messages.js';

const port = parentPort;
if (port === null) throw new Error('ort-pool-worker must run in a worker thread');

const sessions = new Map<string, Promise<InferenceSession>>();
const stages = new Map<number, { input: SharedArrayBuffer; scores: SharedArrayBuffer }>();
let ownInput = new ArrayBuffer(0);
let ownScores = new ArrayBuffer(0);
let kernel: BandPrepKernel | undefined;

/** Pixels of the warm-up chunk (`ping`): big enough to grow the kernel's memory for real chunks. */
const WARM_UP_PIXELS = 8192;

const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
};

function reply(message: PoolReply): void {
  port?.postMessage(message);
}

/** The chunk's spectra where the pool left them (shared memory: not for onnxruntime). */
function sharedSpectra(message: RunMessage): Float32Array | Uint16Array {
  const values = message.pixels * message.bands;
  const { source } = message;
  const from = source.kind === 'shared' ? source.shared : stages.get(message.stage)?.input;
  if (from === undefined) throw new Error(`staging area ${message.stage} was never attached`);
  const offset = source.kind === 'shared' ? source.byteOffset : 0;
  return message.inputType === 'uint16'
    ? new Uint16Array(from, offset, values)
    : new Float32Array(from, offset, values);
}

/** The graph's input tensor: the chunk prepared by the WASM kernel, or copied into this worker's own buffer. */
function inputTensor(message: RunMessage): Tensor {
  const { pixels, bands, prep } = message;
  const shared = sharedSpectra(message);
  if (prep !== undefined) {
    kernel ??= BandPrepKernel.create();
    return new Tensor('float32', kernel.prepare(shared, { pixels, bands, ...prep }), [pixels, prep.count]);
  }
  const bytes = shared.length * shared.BYTES_PER_ELEMENT;
  if (ownInput.byteLength < bytes) ownInput = new ArrayBuffer(bytes);
  const own =
    shared instanceof Uint16Array
      ? new Uint16Array(ownInput, 0, shared.length)
      : new Float32Array(ownInput, 0, shared.length);
  own.set(shared);
  return new Tensor(message.inputType, own, [pixels, bands]);
}

async function run(message: RunMessage): Promise<readonly Float32Array[]> {
  const session = sessions.get(message.key);
  if (session === undefined) throw new Error(`no session loaded under ${message.key}`);
  const stage = stages.get(message.stage);
  if (stage === undefined) throw new Error(`staging area ${message.stage} was never attached`);
  const { pixels } = message;
  const feeds: Record<string, Tensor> = { [message.inputName]: inputTensor(message) };
  for (const [name, feed] of Object.entries(message.feeds)) {
    feeds[name] = new Tensor('float32', feed.data, [...feed.dims]);
  }
  if (ownScores.byteLength < pixels * 4) ownScores = new ArrayBuffer(pixels * 4);
  const scores = new Float32Array(ownScores, 0, pixels);
  const fetches: Record<string, Tensor | null> = {
    [message.scoresName]: new Tensor('float32', scores, [pixels]),
  };
  for (const name of message.outputs) fetches[name] = null;
  const out = await (await session).run(feeds, fetches);
  new Float32Array(stage.scores, 0, pixels).set(scores);
  return message.outputs.map((name) => {
    const data = out[name]?.data;
    if (!(data instanceof Float32Array)) throw new Error(`output ${name} is missing or not float32`);
    return Float32Array.from(data);
  });
}

async function handle(message: PoolRequest): Promise<void> {
  try {
    switch (message.type) {
      case 'run':
        reply({ type: 'done', id: message.id, outputs: await run(message) });
        return;
      case 'attach':
        stages.set(message.stage, { input: message.input, scores: message.scores });
        break;
      case 'load': {
        const created = InferenceSession.create(message.bytes, SESSION_OPTIONS);
        sessions.set(message.key, created);
        created.catch(() => sessions.delete(message.key));
        await created;
        break;
      }
      case 'release': {
        const session = sessions.get(message.key);
        sessions.delete(message.key);
        await (await session)?.release();
        break;
      }
      case 'ping':
        // Being able to answer means onnxruntime is loaded; warm the kernel too (its first call
        // grows memory and runs before the optimised tier is ready: ~5 ms).
        kernel ??= BandPrepKernel.create();
        kernel.prepare(new Uint16Array(WARM_UP_PIXELS * 224), {
          pixels: WARM_UP_PIXELS,
          bands: 224,
          lo: 0,
          count: 224,
          unitNorm: true,
        });
        break;
    }
    reply({ type: 'done', id: message.id });
  } catch (error) {
    reply({
      type: 'failed',
      id: message.id,
      message: error instanceof Error ? error.message : String(error),
    });
  }
}

// Requests are handled one at a time, in order: a worker scores one chunk at a time.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: PoolRequest) => {
  queue = queue.then(() => handle(message));
});
