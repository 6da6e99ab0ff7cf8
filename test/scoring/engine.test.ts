import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type * as EngineModule from '../../src/scoring/engine.js';

const require = createRequire(import.meta.url);
function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}
const nativeInstalled = installed('@tensorflow/tfjs-node') || installed('@tensorflow/tfjs-node-gpu');

/** A fresh copy of src/scoring/engine.ts (its choice is per module instance; tfjs itself is shared). */
async function freshEngine(): Promise<typeof EngineModule> {
  vi.resetModules();
  return import('../../src/scoring/engine.js');
}

describe('initEngine', () => {
  afterEach(() => {
    delete process.env.CUBESTREAM_BACKEND;
  });

  it('rejects an unknown backend option, naming the accepted values', async () => {
    const engine = await freshEngine();
    const error = await engine
      .initEngine({ backend: 'gpu' as EngineModule.EngineBackendRequest })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(engine.EngineError);
    expect((error as Error).message).toBe(
      'backend = "gpu" is not a backend; expected one of tensorflow, wasm, cpu, auto',
    );
    expect((error as EngineModule.EngineError).code).toBe('engine');
    expect(engine.currentEngine()).toBeUndefined();
  });

  it('rejects an unknown CUBESTREAM_BACKEND, naming the variable', async () => {
    const engine = await freshEngine();
    process.env.CUBESTREAM_BACKEND = 'fast';
    await expect(engine.initEngine()).rejects.toThrow(/^CUBESTREAM_BACKEND = "fast" is not a backend/);
  });

  it.skipIf(nativeInstalled)(
    'an explicit tensorflow request without tfjs-node fails clearly and leaves the engine as it was',
    async () => {
      const engine = await freshEngine();
      const before = await engine.initEngine({ backend: 'cpu' });
      const error = await engine.initEngine({ backend: 'tensorflow' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(engine.EngineError);
      expect((error as Error).message).toMatch(
        /^backend "tensorflow" was requested but tensorflow unavailable \(@tensorflow\/tfjs-node-gpu: .*; @tensorflow\/tfjs-node: /,
      );
      expect(engine.currentEngine()).toBe(before);
      expect(tf.getBackend()).toBe('cpu');
      await expect(engine.initEngine()).resolves.toBe(before);
    },
  );

  it.skipIf(nativeInstalled)(
    'auto picks the SIMD wasm backend here and says why not tensorflow',
    async () => {
      const engine = await freshEngine();
      const info = await engine.initEngine();
      expect(info).toMatchObject({ backend: 'wasm', requested: 'auto', wasmSimd: true });
      expect(info.fallbackReason).toMatch(/^tensorflow unavailable \(@tensorflow\/tfjs-node-gpu/);
      expect(tf.getBackend()).toBe('wasm');
      expect(engine.currentEngine()).toBe(info);
      // Idempotent: no option, or the backend already in use, returns the same info.
      await expect(engine.initEngine()).resolves.toBe(info);
      await expect(engine.initEngine({ backend: 'wasm' })).resolves.toBe(info);
      expect(tf.tidy(() => tf.matMul(tf.ones([2, 3]), tf.ones([3, 2])).dataSync()[0])).toBe(3);
    },
  );

  it('an explicit different backend switches, and can switch back', async () => {
    const engine = await freshEngine();
    await engine.initEngine({ backend: 'wasm' });
    const cpu = await engine.initEngine({ backend: 'cpu' });
    expect(cpu).toEqual({ backend: 'cpu', requested: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
    expect(tf.tidy(() => tf.sum(tf.tensor1d([1, 2, 3])).dataSync()[0])).toBe(6);
    const wasm = await engine.initEngine({ backend: 'wasm' });
    expect(wasm).toMatchObject({ backend: 'wasm', requested: 'wasm', wasmSimd: true });
    expect(wasm.fallbackReason).toBeUndefined();
    expect(tf.getBackend()).toBe('wasm');
  });

  it('CUBESTREAM_BACKEND applies when no option is given; the option wins over it', async () => {
    process.env.CUBESTREAM_BACKEND = 'cpu';
    const fromEnv = await freshEngine();
    await expect(fromEnv.initEngine()).resolves.toEqual({ backend: 'cpu', requested: 'cpu' });
    const fromOption = await freshEngine();
    await expect(fromOption.initEngine({ backend: 'wasm' })).resolves.toMatchObject({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('serialises concurrent calls into one choice', async () => {
    const engine = await freshEngine();
    const [a, b] = await Promise.all([engine.initEngine({ backend: 'wasm' }), engine.initEngine()]);
    expect(b).toBe(a);
  });
});
