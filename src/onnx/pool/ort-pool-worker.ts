/**
 * Worker thread of an {@link OrtWorkerPool}: one single-threaded onnxruntime-node session per
 * graph key, scoring the chunks the pool sends. Holds no state beyond its sessions.
 */
import { parentPort } from 'node:worker_threads';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import type { PoolReply, PoolRequest, RunMessage } from './pool-messages.js';

const port = parentPort;
if (port === null) throw new Error('ort-pool-worker must run in a worker thread');

const sessions = new Map<string, Promise<InferenceSession>>();

const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  executionMode: 'sequential',
};

function reply(message: PoolReply, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

/** This worker's buffer for chunks copied out of shared memory (grown on demand). */
let scratch = new ArrayBuffer(0);

/** The transferred buffer itself, or this worker's scratch buffer for a shared span. */
function ownBuffer(input: RunMessage['input'], bytes: number): ArrayBuffer {
  if (input instanceof ArrayBuffer) return input;
  if (scratch.byteLength < bytes) scratch = new ArrayBuffer(bytes);
  return scratch;
}

/** What goes back to the pool with the reply: a transferred input buffer, for reuse. */
function returned(input: RunMessage['input']): ArrayBuffer[] {
  return input instanceof ArrayBuffer ? [input] : [];
}

async function run(message: RunMessage): Promise<void> {
  const session = sessions.get(message.key);
  if (session === undefined) throw new Error(`no session loaded under ${message.key}`);
  const { pixels, bands } = message;
  const values = pixels * bands;
  const x =
    message.inputType === 'uint16'
      ? new Uint16Array(ownBuffer(message.input, values * 2), 0, values)
      : new Float32Array(ownBuffer(message.input, values * 4), 0, values);
  if (!(message.input instanceof ArrayBuffer)) {
    const { shared, byteOffset } = message.input;
    x.set(
      message.inputType === 'uint16'
        ? new Uint16Array(shared, byteOffset, values)
        : new Float32Array(shared, byteOffset, values),
    );
  }
  const feeds: Record<string, Tensor> = {
    [message.inputName]: new Tensor(message.inputType, x, [pixels, bands]),
  };
  for (const [name, feed] of Object.entries(message.feeds)) {
    feeds[name] = new Tensor('float32', feed.data, [...feed.dims]);
  }
  const fetches: Record<string, Tensor | null> = {
    [message.scoresName]: new Tensor('float32', new Float32Array(message.scores, 0, pixels), [pixels]),
  };
  for (const name of message.outputs) fetches[name] = null;
  const out = await (await session).run(feeds, fetches);
  const outputs = message.outputs.map((name) => {
    const data = out[name]?.data;
    if (!(data instanceof Float32Array)) throw new Error(`output ${name} is missing or not float32`);
    return Float32Array.from(data);
  });
  const [input] = returned(message.input);
  reply(
    {
      type: 'done',
      id: message.id,
      ...(input === undefined ? {} : { input }),
      scores: message.scores,
      outputs,
    },
    [...returned(message.input), message.scores],
  );
}

async function handle(message: PoolRequest): Promise<void> {
  try {
    if (message.type === 'run') {
      await run(message);
      return;
    }
    if (message.type === 'ping') {
      // Nothing to do: being able to answer means onnxruntime is loaded.
    } else if (message.type === 'load') {
      const created = InferenceSession.create(message.bytes, SESSION_OPTIONS);
      sessions.set(message.key, created);
      created.catch(() => sessions.delete(message.key));
      await created;
    } else {
      const session = sessions.get(message.key);
      sessions.delete(message.key);
      await (await session)?.release();
    }
    reply({ type: 'done', id: message.id });
  } catch (error) {
    const text = error instanceof Error ? error.message : String(error);
    if (message.type === 'run') {
      const [input] = returned(message.input);
      reply(
        {
          type: 'failed',
          id: message.id,
          message: text,
          ...(input === undefined ? {} : { input }),
          scores: message.scores,
        },
        [...returned(message.input), message.scores],
      );
    } else {
      reply({ type: 'failed', id: message.id, message: text });
    }
  }
}

// Requests are handled one at a time, in order: a worker scores one chunk at a time.
let queue: Promise<void> = Promise.resolve();
port.on('message', (message: PoolRequest) => {
  queue = queue.then(() => handle(message));
});
