// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${NAME} references, not templates
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { interpolateEnv } from '../../../src/app/config/interpolate-env.js';
import { loadRunConfig } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';

describe('interpolateEnv', () => {
  const env = { HOST: 'broker.plant', PW: 's3cret', EMPTY: '' };

  it('replaces ${NAME} in string values, anywhere in the string, at any depth', () => {
    expect(
      interpolateEnv(
        { sinks: { mqtt: { url: 'mqtts://${HOST}:8883', password: '${PW}' } }, list: ['${HOST}', 3, true] },
        env,
        'f',
      ),
    ).toEqual({
      sinks: { mqtt: { url: 'mqtts://broker.plant:8883', password: 's3cret' } },
      list: ['broker.plant', 3, true],
    });
  });

  it('uses ${NAME:-fallback} when NAME is unset or empty, and $${ for a literal ${', () => {
    expect(
      interpolateEnv({ a: '${NOPE:-x}', b: '${EMPTY:-y}', c: '$${HOST}', d: '${HOST:-z}' }, env, 'f'),
    ).toEqual({
      a: 'x',
      b: 'y',
      c: '${HOST}',
      d: 'broker.plant',
    });
  });

  it('keeps substituted text a string (never parsed as YAML)', () => {
    expect(interpolateEnv({ p: '${N}' }, { N: '{a: 1}' }, 'f')).toEqual({ p: '{a: 1}' });
  });

  it('names the path and variable of every unset reference', () => {
    const attempt = () =>
      interpolateEnv({ sinks: { mqtt: { password: '${MQTT_PASSWORD}' } }, x: ['${A B}'] }, env, 'run.yaml');
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow('sinks.mqtt.password: environment variable MQTT_PASSWORD is not set');
    expect(attempt).toThrow('x.0: ${A B} is not a valid reference');
  });

  it('applies to run configs loaded from a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cubestream-env-'));
    try {
      const file = join(dir, 'run.yaml');
      await writeFile(
        file,
        'source: { kind: simulated }\nmodel: { path: "${MODEL_DIR}" }\nsinks: { mqtt: { url: "mqtt://${BROKER:-127.0.0.1}:1883", password: "${PW}" } }\n',
      );
      process.env.MODEL_DIR = 'models/demo';
      process.env.PW = 'from-env';
      const config = await loadRunConfig(file);
      expect(config.model.path).toBe('models/demo');
      expect(config.sinks.mqtt).toMatchObject({ url: 'mqtt://127.0.0.1:1883', password: 'from-env' });
    } finally {
      delete process.env.MODEL_DIR;
      delete process.env.PW;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
