import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkTlsFiles, readTlsFiles, TlsFileError } from '../../../connectors/shared/tls-files.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import { mqttFrames } from '../../../connectors/sources/mqtt-frames.js';
import { createLogger } from '../../../src/telemetry/logger.js';

describe('readTlsFiles', () => {
  let dir: string;
  let ca: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cubestream-tls-'));
    ca = join(dir, 'ca.pem');
    await writeFile(ca, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('reads the named files; rejectUnauthorized defaults to true', () => {
    const material = readTlsFiles({ caFile: ca }, 'mqtt source');
    expect(material.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(material.cert).toBeUndefined();
    expect(material.key).toBeUndefined();
    expect(material.rejectUnauthorized).toBe(true);
    expect(readTlsFiles({ rejectUnauthorized: false }, 'mqtt source')).toEqual({ rejectUnauthorized: false });
  });

  it('names the connector, the setting and the file it cannot read', () => {
    const missing = join(dir, 'client.key');
    let caught: unknown;
    try {
      readTlsFiles({ caFile: ca, keyFile: missing }, 'mqtt sink');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(TlsFileError);
    expect(caught).toMatchObject({ code: 'tls_file', option: 'tls.keyFile', file: missing });
    expect(String((caught as Error).message)).toMatch(
      new RegExp(`^mqtt sink: tls\\.keyFile: cannot read ${missing.replace(/[.\\]/g, '\\$&')} \\(ENOENT`),
    );
    expect(() => checkTlsFiles({ certFile: missing }, 'nats sink')).toThrow(TlsFileError);
  });

  it('the MQTT source reads its TLS files when it is built', () => {
    expect(() => mqttFrames({ url: 'mqtts://127.0.0.1:1', tls: { caFile: join(dir, 'none.pem') } })).toThrow(
      /mqtt source: tls\.caFile: cannot read/,
    );
  });

  it('the NATS sink fails connect() on an unreadable TLS file at once, instead of retrying as if the server were down', async () => {
    const sink = new NatsDecisionSink({
      servers: 'nats://127.0.0.1:1',
      tls: { caFile: join(dir, 'none.pem') },
      connectTimeoutMs: 600_000,
      logger: createLogger({ level: 'silent' }),
    });
    await expect(sink.connect()).rejects.toThrow(TlsFileError);
    await sink.close();
  });
});
