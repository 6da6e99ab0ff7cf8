import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRunCommand } from '../../../src/app/cli/commands/run.js';
import { runCli } from '../../../src/app/cli/main.js';
import { writeEnviCube } from '../../../src/io/envi/writer.js';
import { REPO_ROOT } from '../../e2e/cli-process.js';
import { captureIO } from '../../helpers/capture-io.js';

const DEMO_CONFIG = join(REPO_ROOT, 'configs/run/demo.yaml');
const DEMO_MODEL = join(REPO_ROOT, 'models/demo');

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-run-check-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(name: string, lines: readonly string[]): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

/** `cubestream run --check --config FILE [--set ...]` with exactly `env` as the environment. */
async function check(
  file: string,
  set: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<{ code: number; out: string; err: string }> {
  const io = captureIO();
  const command = createRunCommand({ env, exit: () => undefined });
  const code = await command.run(
    { values: { config: file, check: true, set: [...set] }, positionals: [] },
    io,
  );
  return { code, out: io.stdout(), err: io.stderr() };
}

/** A TCP server on a free loopback port, to prove that the check binds nothing. */
async function busyPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { server, port: address.port };
}

describe('cubestream run --check', () => {
  it('passes configs/run/demo.yaml with a summary, reaching no broker and binding no port', async () => {
    const { server, port } = await busyPort();
    try {
      // The metrics port is taken and nothing listens on the broker's port: neither matters to a check.
      const result = await check(DEMO_CONFIG, ['sinks.mqtt.url=mqtt://127.0.0.1:1'], {
        CUBESTREAM_METRICS__PORT: String(port),
      });
      expect(result.err).toBe('');
      expect(result.code).toBe(0);
      const lines = result.out.split('\n');
      expect(lines[0]).toBe(`config OK: ${DEMO_CONFIG}`);
      expect(result.out).toMatch(/ {2}source: +simulated camera cam0, 256 px, preset default\n/);
      expect(result.out).toMatch(
        / {2}model: +demo-lentils-2 \(deep-svdd, models\/demo\), weights SHA-256 matches/,
      );
      expect(result.out).toMatch(
        / {2}bands: +61 \(430-910 nm\) from the source match the model's 61 \(430-910 nm\)\n/,
      );
      expect(result.out).toMatch(/ {2}sinks: +mqtt mqtt:\/\/127\.0\.0\.1:1\n/);
      expect(result.out).toMatch(/ {2}env: +metrics\.port from CUBESTREAM_METRICS__PORT\n/);
    } finally {
      server.close();
    }
  });

  it('is wired to the command line: `cubestream run --check --config FILE` exits 0', async () => {
    const io = captureIO();
    expect(await runCli(['run', '--check', '--config', DEMO_CONFIG], io)).toBe(0);
    expect(io.stdout()).toMatch(/^config OK: /);
  });

  it('lists every problem with its path, not only the first: schema values, the model, files, variables', async () => {
    const empty = join(dir, 'empty-secret');
    await writeFile(empty, '\n');
    const short = join(dir, 'short-token');
    await writeFile(short, 'abc\n');
    const notAFolder = join(dir, 'plain-file');
    await writeFile(notAFolder, 'x');
    const file = await config('many.yaml', [
      'source: { kind: simulated, width: -4 }',
      `model: { path: ${join(dir, 'no-model')} }`,
      'pipeline: { backpressure: { policy: fast } }',
      'sinks:',
      `  mqtt: { url: mqtt://127.0.0.1:1, username: u, passwordFile: ${empty}, tls: { caFile: ${join(dir, 'no-ca.pem')} } }`,
      `  outbox: { dir: ${join(notAFolder, 'outbox')} }`,
      `metrics: { auth: { tokenFile: ${short} } }`,
      '',
    ]);
    const result = await check(file, [], { CUBESTREAM_SINKS__MQT__URL: 'x' });
    expect(result.code).toBe(1);
    expect(result.out).toBe('');
    const err = result.err;
    expect(err.split('\n')[0]).toMatch(new RegExp(`^${file}: \\d+ problems$`));
    expect(err).toMatch(
      /\n {2}CUBESTREAM_SINKS__MQT__URL: is not a configuration key: sinks has no key "MQT"/,
    );
    expect(err).toMatch(/\n {2}source\.width: /);
    expect(err).toMatch(/\n {2}pipeline\.backpressure\.policy: /);
    expect(err).toMatch(/\n {2}sinks\.mqtt\.passwordFile: cannot read .*empty-secret \(the file is empty\)/);
    expect(err).toMatch(/\n {2}sinks\.mqtt\.tls\.caFile: cannot read .*no-ca\.pem \(ENOENT/);
    expect(err).toMatch(/\n {2}sinks\.outbox\.dir: cannot create .*plain-file is not a folder/);
    expect(err).toMatch(/\n {2}metrics\.auth\.tokenFile: .*3 characters; at least 16/);
    expect(err).toMatch(/\n {2}model\.path: model bundle .*no-model: cannot read pipeline\.yaml/);
  });

  it('names a missing model folder at model.path', async () => {
    const missing = join(dir, 'nowhere', 'model');
    const result = await check(DEMO_CONFIG, [`model.path=${missing}`]);
    expect(result.code).toBe(1);
    expect(result.err).toBe(
      `${DEMO_CONFIG}: 1 problem\n  model.path: model bundle ${missing}: cannot read pipeline.yaml (ENOENT: no such file or directory, open '${join(missing, 'pipeline.yaml')}')\n`,
    );
  });

  it('finds a weights file changed after training (the bundle loader checks its SHA-256)', async () => {
    const model = join(dir, 'tampered-model');
    await cp(DEMO_MODEL, model, { recursive: true });
    const weights = join(model, 'weights.safetensors');
    const bytes = await readFile(weights);
    const at = bytes.length - 3; // a byte of the last tensor's data
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    await writeFile(weights, bytes);
    const result = await check(DEMO_CONFIG, [`model.path=${model}`]);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      /\n {2}model\.path: model bundle .*tampered-model: weights\.safetensors has SHA-256 [0-9a-f]{64} but model-card\.json records [0-9a-f]{64} \(file changed or corrupted\)\n/,
    );
  });

  it('finds a source whose bands the model does not take: count, then wavelengths', async () => {
    const count = await check(DEMO_CONFIG, ['source.preset=fx10']);
    expect(count.code).toBe(1);
    expect(count.err).toMatch(
      /\n {2}source\.preset: simulated camera cam0, 256 px: 224 bands \(400-1000 nm\), but model demo-lentils-2 \(model\.path\) does not take them: .*the model expects 61 bands\n/,
    );
    // 61 bands, but spread over 400-1000 nm instead of the model's 430-910.
    const wavelengths = await check(DEMO_CONFIG, ['source.preset=fx10', 'source.bands=61']);
    expect(wavelengths.code).toBe(1);
    expect(wavelengths.err).toMatch(
      /\n {2}source\.bands: .*60 of 61 bands differ from the model's by more than 0\.5 nm/,
    );
  });

  it('reads the headers of an ENVI replay and checks each cube against the model', async () => {
    const cubes = join(dir, 'cubes');
    await mkdir(cubes, { recursive: true });
    const cube = (bands: number, first: number) => ({
      lines: 2,
      samples: 3,
      bands,
      data: new Float32Array(2 * 3 * bands),
      wavelengths: Array.from({ length: bands }, (_, b) => first + 8 * b),
    });
    await writeEnviCube(join(cubes, 'a.hdr'), cube(61, 430), { dataType: 4, interleave: 'bip' });
    await writeEnviCube(join(cubes, 'b.hdr'), cube(60, 430), { dataType: 4, interleave: 'bip' });
    const file = await config('envi.yaml', [
      `source: { kind: envi, path: ${cubes} }`,
      `model: { path: ${DEMO_MODEL} }`,
      `sinks: { file: { path: ${join(dir, 'out', 'decisions.jsonl')} } }`,
    ]);
    const result = await check(file);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(
      new RegExp(`: 1 problem\\n {2}source\\.path: ENVI cube ${join(cubes, 'b.hdr')}: 60 bands`),
    );
    // With the odd cube gone, the replay passes, and the file sink's folder will be created.
    await rm(join(cubes, 'b.hdr'));
    await rm(join(cubes, 'b.img'));
    const fixed = await check(file);
    expect(fixed.err).toBe('');
    expect(fixed.code).toBe(0);
    expect(fixed.out).toMatch(/ {2}source: +envi replay of .*cubes as cam0\n/);
    expect(fixed.out).toMatch(/ {2}sinks: +file .*decisions\.jsonl\n/);
  });

  it('names a port two endpoints would share', async () => {
    const result = await check(DEMO_CONFIG, ['metrics.port=9555', 'viewer.port=9555']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/\n {2}viewer\.port: port 9555 is also metrics\.port/);
  });

  it('prints warnings about ignored CUBESTREAM_ variables and still passes', async () => {
    const result = await check(DEMO_CONFIG, [], {
      CUBESTREAM_METRICS_PORT: '9500',
      CUBESTREAM_LOG_LEVEL: 'warn',
    });
    expect(result.code).toBe(0);
    expect(result.err).toBe(
      'warning: CUBESTREAM_METRICS_PORT is neither a configuration key nor a variable cubestream reads: ignored (did you mean CUBESTREAM_METRICS__PORT? levels of a key are separated by "__")\n',
    );
  });

  it('names an unreadable config file', async () => {
    const result = await check(join(dir, 'absent.yaml'));
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/absent\.yaml: 1 problem\n {2}\(file\): ENOENT/);
  });
});

describe('cubestream run with CUBESTREAM_ variables', () => {
  it('refuses to start on a variable meant as a key that names none, naming it (exit 1)', async () => {
    const io = captureIO();
    const command = createRunCommand({
      env: { CUBESTREAM_SINKS__MQTT__URLL: 'mqtt://x' },
      exit: () => undefined,
    });
    await expect(command.run({ values: { config: DEMO_CONFIG }, positionals: [] }, io)).rejects.toThrow(
      /CUBESTREAM_SINKS__MQTT__URLL: is not a configuration key: sinks\.mqtt has no key "URLL"/,
    );
  });
});
