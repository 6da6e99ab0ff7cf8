// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are ${NAME} references, not templates
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { envVariableFor, resolveEnvOverrides } from '../../../src/app/config/env-overrides.js';
import { referencedVariables } from '../../../src/app/config/interpolate-env.js';
import { loadConfigFile, readConfigDocument } from '../../../src/app/config/load-config.js';
import { loadRunConfigWithEnv, RUN_CONFIG_ENV } from '../../../src/app/config/run-config-env.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';

const Schema = z.strictObject({
  sinks: z
    .strictObject({
      mqtt: z
        .strictObject({
          url: z.string(),
          connectTimeoutMs: z.number().int().default(5000),
          cameraIds: z.array(z.string()).optional(),
        })
        .optional(),
      file: z.strictObject({ path: z.string() }).optional(),
    })
    .prefault({}),
  source: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('simulated'), width: z.number().default(256) }),
    z.strictObject({ kind: z.literal('mqtt'), url: z.string() }),
  ]),
  extra: z.record(z.string(), z.number()).optional(),
});

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-env-overrides-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

describe('CUBESTREAM_ environment variables as configuration keys', () => {
  it('maps levels separated by "__" onto keys, ignoring case and single underscores', () => {
    const found = resolveEnvOverrides(Schema, {
      CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS: '2000',
      CUBESTREAM_SINKS__MQTT__URL: 'mqtt://plc:1883',
      CUBESTREAM_source__WIDTH: '512',
      CUBESTREAM_SINKS__FILE: '{path: out.jsonl}',
      PATH: '/usr/bin',
    });
    expect(found.issues).toEqual([]);
    expect(found.warnings).toEqual([]);
    // Shallower keys first, so that a deeper variable wins over a section set whole.
    expect(found.overrides).toEqual([
      { variable: 'CUBESTREAM_SINKS__FILE', path: 'sinks.file', value: '{path: out.jsonl}' },
      { variable: 'CUBESTREAM_source__WIDTH', path: 'source.width', value: '512' },
      {
        variable: 'CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS',
        path: 'sinks.mqtt.connectTimeoutMs',
        value: '2000',
      },
      { variable: 'CUBESTREAM_SINKS__MQTT__URL', path: 'sinks.mqtt.url', value: 'mqtt://plc:1883' },
    ]);
  });

  it('spells the variable of a key path in SCREAMING_SNAKE_CASE', () => {
    expect(envVariableFor('sinks.mqtt.connectTimeoutMs')).toBe('CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS');
    expect(envVariableFor('sinks.deadLetter.file')).toBe('CUBESTREAM_SINKS__DEAD_LETTER__FILE');
    // What envVariableFor spells resolves back to its path.
    const path = 'pipeline.backpressure.capacity';
    const found = resolveEnvOverrides(RunConfigSchema, { [envVariableFor(path)]: '8' });
    expect(found.overrides.map((o) => o.path)).toEqual([path]);
  });

  it('is an error, naming the variable, when a variable meant as a key names none', () => {
    const found = resolveEnvOverrides(Schema, {
      CUBESTREAM_SINK__MQTT__URL: 'x', // no section "sink"
      CUBESTREAM_SINKS__MQTT__URLL: 'x', // a typo in the last level
      CUBESTREAM_SINKS: '{}', // a section set whole: fine
      CUBESTREAM_EXTRA__SOME_KEY: '1', // a map: its keys cannot be spelled
      CUBESTREAM_SINKS____URL: 'x', // an empty level
    });
    expect(found.overrides.map((o) => o.variable)).toEqual(['CUBESTREAM_SINKS']);
    const byVariable = Object.fromEntries(found.issues.map((i) => [i.path, i.message]));
    expect(Object.keys(byVariable).sort()).toEqual([
      'CUBESTREAM_EXTRA__SOME_KEY',
      'CUBESTREAM_SINKS__MQTT__URLL',
      'CUBESTREAM_SINKS____URL',
      'CUBESTREAM_SINK__MQTT__URL',
    ]);
    expect(byVariable.CUBESTREAM_SINK__MQTT__URL).toMatch(/no key "SINK" \(keys: extra, sinks, source\)/);
    expect(byVariable.CUBESTREAM_SINKS__MQTT__URLL).toMatch(
      /sinks\.mqtt has no key "URLL" \(keys: cameraIds, connectTimeoutMs, url\)/,
    );
    expect(byVariable.CUBESTREAM_EXTRA__SOME_KEY).toMatch(
      /extra is a map.*CUBESTREAM_EXTRA='\{Name: value\}'/,
    );
    expect(byVariable.CUBESTREAM_SINKS____URL).toMatch(/empty level/);
  });

  it('warns about, and ignores, other CUBESTREAM_ variables, with a hint when "_" was meant as "__"', () => {
    const found = resolveEnvOverrides(Schema, {
      CUBESTREAM_SINKS_MQTT_URL: 'mqtt://x',
      CUBESTREAM_SOMETHING: 'else',
    });
    expect(found.overrides).toEqual([]);
    expect(found.issues).toEqual([]);
    expect(found.warnings).toEqual([
      'CUBESTREAM_SINKS_MQTT_URL is neither a configuration key nor a variable cubestream reads: ignored (did you mean CUBESTREAM_SINKS__MQTT__URL? levels of a key are separated by "__")',
      'CUBESTREAM_SOMETHING is neither a configuration key nor a variable cubestream reads: ignored (levels of a key are separated by "__", e.g. CUBESTREAM_SINKS__MQTT__URL)',
    ]);
  });

  it('leaves alone the variables cubestream reads otherwise, ${NAME} references, service links, empty values', () => {
    const found = resolveEnvOverrides(
      RunConfigSchema,
      {
        CUBESTREAM_LOG_LEVEL: 'debug',
        CUBESTREAM_BACKEND: 'cpu',
        CUBESTREAM_MQTT_PASSWORD: 's3cret', // referenced by the file as ${CUBESTREAM_MQTT_PASSWORD}
        // What Kubernetes defines for a Service named cubestream (deploy/k8s/service.yaml).
        CUBESTREAM_SERVICE_HOST: '10.0.0.7',
        CUBESTREAM_SERVICE_PORT: '9464',
        CUBESTREAM_SERVICE_PORT_METRICS: '9464',
        CUBESTREAM_PORT: 'tcp://10.0.0.7:9464',
        CUBESTREAM_PORT_9464_TCP: 'tcp://10.0.0.7:9464',
        CUBESTREAM_PORT_9464_TCP_PROTO: 'tcp',
        CUBESTREAM_PORT_8080_TCP_ADDR: '10.0.0.7',
        CUBESTREAM_METRICS__PORT: '', // empty: as if unset
      },
      RUN_CONFIG_ENV,
      new Set(['CUBESTREAM_MQTT_PASSWORD']),
    );
    expect(found).toEqual({ overrides: [], issues: [], warnings: [] });
  });

  it('refuses two variables that name one key', () => {
    const found = resolveEnvOverrides(Schema, {
      CUBESTREAM_SINKS__MQTT__URL: 'a',
      CUBESTREAM_SINKS__MQTT__url: 'b',
    });
    expect(found.overrides).toEqual([]);
    expect(found.issues.map((i) => i.path).sort()).toEqual([
      'CUBESTREAM_SINKS__MQTT__URL',
      'CUBESTREAM_SINKS__MQTT__url',
    ]);
    expect(found.issues[0]?.message).toMatch(/sets sinks\.mqtt\.url, as CUBESTREAM_SINKS__MQTT__url does/);
  });

  it('lists the variables a document references as ${NAME}', () => {
    expect(
      referencedVariables({ a: ['${ONE}', 'x ${TWO:-2} $${NOT_ME}'], b: { c: '${bad name}', d: 3 } }),
    ).toEqual(new Set(['ONE', 'TWO']));
  });
});

describe('loadConfigFile with environment variables', () => {
  const options = { envOverrides: { prefix: 'CUBESTREAM_' } };

  it('takes the file, then the environment, then --set (file < env < --set)', async () => {
    const path = await file(
      'precedence.yaml',
      'source: { kind: simulated, width: 100 }\nsinks: { mqtt: { url: mqtt://file:1883, connectTimeoutMs: 1 } }\n',
    );
    const env = {
      CUBESTREAM_SOURCE__WIDTH: '200',
      CUBESTREAM_SINKS__MQTT__URL: 'mqtt://env:1883',
      CUBESTREAM_SINKS__MQTT__CAMERA_IDS: '[cam1, cam2]',
    };
    const config = await loadConfigFile(Schema, path, ['source.width=300'], env, options);
    expect(config.source).toEqual({ kind: 'simulated', width: 300 });
    expect(config.sinks.mqtt).toEqual({
      url: 'mqtt://env:1883',
      connectTimeoutMs: 1,
      cameraIds: ['cam1', 'cam2'],
    });
    // Without the option, the same environment changes nothing.
    expect((await loadConfigFile(Schema, path, [], env)).sinks.mqtt?.url).toBe('mqtt://file:1883');
    // A variable whose key --set sets again is not reported as what set it.
    const read = await readConfigDocument(Schema, path, ['source.width=300'], env, options);
    expect(read.env.map((o) => o.variable)).toEqual([
      'CUBESTREAM_SINKS__MQTT__CAMERA_IDS',
      'CUBESTREAM_SINKS__MQTT__URL',
    ]);
    const wrong = await loadConfigFile(Schema, path, ['source.width=wide'], env, options).catch(
      (e: unknown) => e,
    );
    expect((wrong as ConfigError).message).toMatch(/ {2}source\.width: [^\n]*expected number[^\n(]*$/m);
  });

  it('parses values as --set does: YAML scalars and flow collections, quoted text stays text', async () => {
    const path = await file('values.yaml', 'source: { kind: mqtt, url: mqtt://a }\n');
    const config = await loadConfigFile(
      Schema,
      path,
      [],
      { CUBESTREAM_SOURCE__URL: '"1883"', CUBESTREAM_EXTRA: '{a: 1, b: 2.5}' },
      options,
    );
    expect(config.source).toEqual({ kind: 'mqtt', url: '1883' });
    expect(config.extra).toEqual({ a: 1, b: 2.5 });
  });

  it('names every problem at once: a wrong variable, a value of the wrong type (with its variable), the file', async () => {
    const path = await file('several.yaml', 'source: { kind: simulated, width: wide }\n');
    const error = await loadConfigFile(
      Schema,
      path,
      [],
      {
        CUBESTREAM_SINKS__MQTT__URL: 'mqtt://x',
        CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS: 'soon',
        CUBESTREAM_SINKS__NATS__SERVERS: 'nats://x',
        CUBESTREAM_EXTRA: '[unclosed',
      },
      options,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${path}: invalid configuration`);
    expect(message).toMatch(
      / {2}CUBESTREAM_SINKS__NATS__SERVERS: is not a configuration key: sinks has no key "NATS"/,
    );
    expect(message).toMatch(/ {2}CUBESTREAM_EXTRA: cannot set extra: /);
    expect(message).toMatch(
      / {2}sinks\.mqtt\.connectTimeoutMs: .*expected number.*\(set by CUBESTREAM_SINKS__MQTT__CONNECT_TIMEOUT_MS\)/,
    );
    expect(message).toMatch(/ {2}source\.width: .*expected number/);
    expect(message).not.toMatch(/source\.width: .*set by/);
  });

  it('reports ignored variables through onWarning and loads the rest', async () => {
    const path = await file('warn.yaml', 'source: { kind: simulated }\n');
    const warnings: string[] = [];
    const config = await loadConfigFile(
      Schema,
      path,
      [],
      { CUBESTREAM_COLOUR: 'blue' },
      {
        ...options,
        onWarning: (warning) => warnings.push(warning),
      },
    );
    expect(config.source).toEqual({ kind: 'simulated', width: 256 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^CUBESTREAM_COLOUR is neither a configuration key/);
  });

  it('loads a run config with CUBESTREAM_ keys, leaving CUBESTREAM_LOG_LEVEL and ${NAME} variables alone', async () => {
    const path = await file(
      'run.yaml',
      [
        'source: { kind: simulated }',
        'model: { path: models/demo }',
        'sinks: { mqtt: { url: "mqtt://${CUBESTREAM_BROKER:-localhost}:1883" } }',
        '',
      ].join('\n'),
    );
    const warnings: string[] = [];
    const config = await loadRunConfigWithEnv(
      path,
      ['viewer.enabled=false'],
      {
        CUBESTREAM_BROKER: 'plc',
        CUBESTREAM_LOG_LEVEL: 'debug',
        CUBESTREAM_METRICS__PORT: '9500',
        CUBESTREAM_SINKS__MQTT__STATUS_REFRESH__MIN_INTERVAL_MS: '1000',
        CUBESTREAM_PIPELINE__BACKPRESSURE__POLICY: 'block',
      },
      (warning) => warnings.push(warning),
    );
    expect(warnings).toEqual([]);
    expect(config.sinks.mqtt?.url).toBe('mqtt://plc:1883');
    expect(config.sinks.mqtt?.statusRefresh.minIntervalMs).toBe(1000);
    expect(config.metrics.port).toBe(9500);
    expect(config.pipeline.backpressure.policy).toBe('block');
    expect(config.viewer.enabled).toBe(false);
    expect(config.log.level).toBeUndefined();
  });
});
