/**
 * The pieces of the hot model reload that need no broker: which bundles take the running
 * model's frames (`inputMismatch`), the `model.watch` section of a run configuration and the
 * connection it opens (its own servers, or the `jetstream` source's with its credentials).
 */
import { describe, expect, it } from 'vitest';
import { inputMismatch, modelWatchConnection } from '../../../src/app/service/model-reload.js';
import { type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { validateConfig } from '../../../src/core/validate.js';
import type { BundleManifest } from '../../../src/model/bundle.js';

type Input = BundleManifest['input'];
const wavelengths = Array.from({ length: 61 }, (_, i) => 430 + 8 * i);
const running: Input = { bands: 61, wavelengths, wavelengthUnits: 'nm', radiometry: 'counts' };

describe('inputMismatch', () => {
  it('accepts the same input, wavelengths within the frame tolerance, and a bundle that states no radiometry', () => {
    expect(inputMismatch(running, { ...running })).toBeUndefined();
    expect(
      inputMismatch(running, { ...running, wavelengths: wavelengths.map((w) => w + 0.25) }),
    ).toBeUndefined();
    const { radiometry: _none, ...unstated } = running;
    expect(inputMismatch(running, unstated)).toBeUndefined();
  });

  it('names what differs: bands, units, radiometry, wavelengths', () => {
    expect(inputMismatch(running, { ...running, bands: 30, wavelengths: wavelengths.slice(0, 30) })).toBe(
      'bands: the running model takes 61, this one 30',
    );
    expect(
      inputMismatch(running, {
        ...running,
        wavelengthUnits: 'index',
        wavelengths: wavelengths.map((_, i) => i),
      }),
    ).toBe('wavelengthUnits: the running model takes nm, this one index');
    expect(inputMismatch(running, { ...running, radiometry: 'reflectance' })).toBe(
      'radiometry: the running model takes counts, this one reflectance',
    );
    expect(inputMismatch(running, { ...running, wavelengths: wavelengths.map((w) => w + 4) })).toMatch(
      /61 of 61 bands differ from the model's by more than 0.5 nm \(band 0: model 434.00, frame 430.00/,
    );
  });
});

describe('model.watch in a run configuration', () => {
  const base = { model: { path: 'models/demo', watch: {} } } as const;

  it('takes the jetstream source connection when it names no servers, with the defaults', () => {
    const config = validateConfig(
      RunConfigSchema,
      {
        ...base,
        source: {
          kind: 'jetstream',
          servers: ['nats://a:4222', 'nats://b:4222'],
          user: 'worker',
          pass: 'secret',
          tls: { caFile: '/ca.pem' },
        },
      } satisfies RunConfigInput,
      'test',
    );
    const watch = config.model.watch;
    expect(watch).toEqual({
      bucket: 'CUBESTREAM_MODEL',
      store: 'CUBESTREAM_MODELS',
      key: 'default',
      startWaitMs: 10_000,
    });
    if (watch === undefined) return;
    expect(modelWatchConnection(watch, config.source)).toMatchObject({
      servers: ['nats://a:4222', 'nats://b:4222'],
      user: 'worker',
      pass: 'secret',
      tls: { caFile: '/ca.pem' },
    });
  });

  it('uses its own servers and credentials when it has them', () => {
    const config = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'simulated' },
        model: { path: 'm', watch: { servers: 'nats://models:4222', token: 't', key: 'camera.line3' } },
      } satisfies RunConfigInput,
      'test',
    );
    const watch = config.model.watch;
    if (watch === undefined) throw new Error('no watch');
    const connection = modelWatchConnection(watch, config.source);
    expect(connection).toMatchObject({ servers: 'nats://models:4222', token: 't' });
    expect(connection).not.toHaveProperty('tls');
  });

  it('refuses a watch without servers beside a source that is not jetstream, and bad names', () => {
    for (const [model, path] of [
      [{ path: 'm', watch: {} }, 'model.watch.servers'],
      [{ path: 'm', watch: { servers: 'nats://x', bucket: 'MY.MODELS' } }, 'model.watch.bucket'],
      [{ path: 'm', watch: { servers: 'nats://x', key: 'camera line3' } }, 'model.watch.key'],
      [{ path: 'm', watch: { servers: 'nats://x', startWaitMs: -1 } }, 'model.watch.startWaitMs'],
    ] as const) {
      const result = RunConfigSchema.safeParse({ source: { kind: 'simulated' }, model });
      expect(result.success, path).toBe(false);
      expect(result.error?.issues.map((issue) => issue.path.join('.'))).toContain(path);
    }
  });
});
