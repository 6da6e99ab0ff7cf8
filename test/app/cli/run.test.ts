import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { captureIO } from '../../helpers/capture-io.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cubestream-run-cli-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function config(text: string): Promise<string> {
  const file = join(dir, 'run.yaml');
  await writeFile(file, text);
  return file;
}

describe('cubestream run', () => {
  it('needs --config (usage error, exit 2)', async () => {
    const io = captureIO();
    expect(await runCli(['run'], io)).toBe(2);
    expect(io.stderr()).toBe('cubestream run: missing required option --config\n');
  });

  it('exits 1 naming the file and every bad YAML path of an invalid config', async () => {
    const file = await config(
      [
        'source: { kind: simulated, width: -4 }',
        'model: { path: models/demo }',
        'pipeline: { backpressure: { policy: fast } }',
        'sinks: { mqtt: { url: 1883 } }',
        '',
      ].join('\n'),
    );
    const io = captureIO();
    expect(await runCli(['run', '--config', file], io)).toBe(1);
    const err = io.stderr();
    expect(err).toContain(`cubestream run: ${file}: invalid configuration`);
    expect(err).toContain('source.width:');
    expect(err).toContain('pipeline.backpressure.policy:');
    expect(err).toContain('sinks.mqtt.url:');
  });

  it('names an unknown source kind and a bad --set override by path', async () => {
    const file = await config('source: { kind: camera }\nmodel: { path: models/demo }\n');
    const io = captureIO();
    expect(await runCli(['run', '--config', file], io)).toBe(1);
    expect(io.stderr()).toContain('source.kind:');

    const good = await config('source: { kind: simulated }\nmodel: { path: models/demo }\n');
    const io2 = captureIO();
    expect(await runCli(['run', '--config', good, '--set', 'metrics.port=99999'], io2)).toBe(1);
    expect(io2.stderr()).toContain('metrics.port:');
  });

  it('exits 1 with the bundle named when the model folder does not exist', async () => {
    const missing = join(dir, 'no-model');
    const file = await config(
      `source: { kind: simulated, maxBlocks: 1 }\nmodel: { path: ${missing} }\nlog: { level: silent }\n`,
    );
    const io = captureIO();
    expect(await runCli(['run', '--config', file], io)).toBe(1);
    expect(io.stderr()).toContain(`model bundle ${missing}: cannot read pipeline.yaml`);
  });
});
