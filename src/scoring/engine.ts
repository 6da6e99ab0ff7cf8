import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { CubestreamError } from '../core/errors.js';

/** A tfjs backend cubestream can run on, or `auto` to pick the fastest available. */
export type EngineBackendRequest = 'tensorflow' | 'wasm' | 'cpu' | 'auto';

/** A tfjs backend cubestream actually runs on. */
export type EngineBackend = Exclude<EngineBackendRequest, 'auto'>;

/** Every accepted value of `backend` and of `CUBESTREAM_BACKEND`. */
export const ENGINE_BACKENDS: readonly EngineBackendRequest[] = ['tensorflow', 'wasm', 'cpu', 'auto'];

/** Environment variable that overrides the backend when no option is given. */
export const ENGINE_BACKEND_ENV = 'CUBESTREAM_BACKEND';

/** Options of {@link initEngine}. */
export interface EngineOptions {
  /**
   * Backend to use. Precedence: this option, then `CUBESTREAM_BACKEND`, then `auto`
   * (tensorflow via tfjs-node-gpu or tfjs-node, else wasm, else cpu).
   */
  backend?: EngineBackendRequest;
}

/** The backend chosen by {@link initEngine}, for logs and the metric label. */
export interface EngineInfo {
  /** The tfjs backend now in use. */
  readonly backend: EngineBackend;
  /** What was asked for (option, environment, or `auto`). */
  readonly requested: EngineBackendRequest;
  /** Package that provided the `tensorflow` backend (`@tensorflow/tfjs-node-gpu` or `-node`). */
  readonly nativePackage?: string;
  /** Whether the wasm backend runs its SIMD binary (wasm only). */
  readonly wasmSimd?: boolean;
  /** Why `auto` did not get a faster backend, e.g. "tensorflow: @tensorflow/tfjs-node not installed". */
  readonly fallbackReason?: string;
}

/**
 * The requested backend is unknown, or could not be started. `auto` never raises it for a
 * missing faster backend (it falls back and says why in `fallbackReason`); an explicit request
 * that cannot be honoured does, rather than silently running 30x slower.
 */
export class EngineError extends CubestreamError {
  /** The backend value at fault. */
  readonly backend: string;

  constructor(backend: string, message: string, options?: { cause?: unknown }) {
    super('engine', message, options);
    this.backend = backend;
  }
}

const NATIVE_PACKAGES = ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'] as const;

let current: EngineInfo | undefined;
/** Serialises calls; resolves to the engine in use (never rejects). */
let chain: Promise<EngineInfo | undefined> = Promise.resolve(undefined);
let wasmPathsSet = false;

function parseRequest(value: string, source: string): EngineBackendRequest {
  if ((ENGINE_BACKENDS as readonly string[]).includes(value)) return value as EngineBackendRequest;
  throw new EngineError(
    value,
    `${source} = ${JSON.stringify(value)} is not a backend; expected one of ${ENGINE_BACKENDS.join(', ')}`,
  );
}

function message(cause: unknown): string {
  return cause instanceof Error ? (cause.message.split('\n')[0] ?? cause.message) : String(cause);
}

async function tryTensorflow(): Promise<{ nativePackage: string } | { reason: string }> {
  const reasons: string[] = [];
  for (const name of NATIVE_PACKAGES) {
    try {
      // A variable specifier: the packages are optional and absent from the type graph.
      const specifier: string = name;
      await import(specifier);
      if (await tf.setBackend('tensorflow')) return { nativePackage: name };
      reasons.push(`${name} loaded but the tensorflow backend did not start`);
    } catch (cause) {
      reasons.push(`${name}: ${message(cause)}`);
    }
  }
  return { reason: `tensorflow unavailable (${reasons.join('; ')})` };
}

async function tryWasm(): Promise<string | undefined> {
  try {
    if (!wasmPathsSet) {
      // In Node the binaries are read from the package's dist folder (where its main file lives).
      const main = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm');
      setWasmPaths(`${dirname(main)}${sep}`);
      wasmPathsSet = true;
    }
    if (await tf.setBackend('wasm')) return undefined;
    return 'wasm backend did not start';
  } catch (cause) {
    return `wasm: ${message(cause)}`;
  }
}

async function select(requested: EngineBackendRequest): Promise<EngineInfo> {
  if (requested === 'tensorflow') {
    const result = await tryTensorflow();
    if ('reason' in result) {
      throw new EngineError('tensorflow', `backend "tensorflow" was requested but ${result.reason}`);
    }
    return { backend: 'tensorflow', requested, nativePackage: result.nativePackage };
  }
  if (requested === 'wasm') {
    const reason = await tryWasm();
    if (reason !== undefined) throw new EngineError('wasm', `backend "wasm" was requested but ${reason}`);
    return { backend: 'wasm', requested, wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT') };
  }
  if (requested === 'cpu') {
    if (!(await tf.setBackend('cpu'))) throw new EngineError('cpu', 'backend "cpu" did not start');
    return { backend: 'cpu', requested };
  }
  const native = await tryTensorflow();
  if (!('reason' in native)) return { backend: 'tensorflow', requested, nativePackage: native.nativePackage };
  const wasmReason = await tryWasm();
  if (wasmReason === undefined) {
    return {
      backend: 'wasm',
      requested,
      wasmSimd: tf.env().getBool('WASM_HAS_SIMD_SUPPORT'),
      fallbackReason: native.reason,
    };
  }
  if (!(await tf.setBackend('cpu')))
    throw new EngineError('auto', 'no tfjs backend started (cpu failed too)');
  return { backend: 'cpu', requested, fallbackReason: `${native.reason}; ${wasmReason}` };
}

/**
 * Picks the tfjs backend once for the process: `tensorflow` (tfjs-node-gpu, then tfjs-node)
 * when importable, else `wasm` (SIMD binary, one thread in Node), else `cpu`.
 *
 * Idempotent: later calls return the same info unless they explicitly request a different
 * backend (then the engine switches); calls are serialised, and a failed request leaves the
 * engine as it was. An explicit `tensorflow` or `wasm` request that cannot be
 * honoured throws {@link EngineError}; only `auto` falls back (and reports `fallbackReason`).
 *
 * @throws {@link EngineError} for an unknown value or an explicit backend that does not start
 * @example
 * ```ts
 * const engine = await initEngine(); // { backend: 'wasm', requested: 'auto', wasmSimd: true, fallbackReason: '…' }
 * logger.info({ backend: engine.backend }, 'engine ready');
 * ```
 */
export function initEngine(options: EngineOptions = {}): Promise<EngineInfo> {
  const run = chain.then(async (previous) => {
    const explicit = options.backend === undefined ? undefined : parseRequest(options.backend, 'backend');
    if (
      previous !== undefined &&
      (explicit === undefined || explicit === previous.requested || explicit === previous.backend)
    ) {
      return previous;
    }
    const env = process.env[ENGINE_BACKEND_ENV];
    const requested =
      explicit ?? (env !== undefined && env !== '' ? parseRequest(env, ENGINE_BACKEND_ENV) : 'auto');
    const info = await select(requested);
    await tf.ready();
    current = info;
    return info;
  });
  // A failed request leaves the engine as it was.
  chain = run.catch(() => current);
  return run;
}

/**
 * The engine chosen by the last successful {@link initEngine}, or `undefined` before it.
 *
 * @example
 * ```ts
 * logger.info({ backend: currentEngine()?.backend ?? 'none' }, 'tfjs engine');
 * ```
 */
export function currentEngine(): EngineInfo | undefined {
  return current;
}
