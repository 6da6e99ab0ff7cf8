/**
 * OPC UA users with `passwordFile`: `cubestream run` reads the file at start (as the brokers'
 * secrets), and a real node-opcua client logs in with the password it holds; the sink refuses a
 * user whose file was not read, and the config one with both or neither.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { MessageSecurityMode, OPCUAClient, SecurityPolicy, UserTokenType } from 'node-opcua-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OpcuaDecisionSink } from '../../../connectors/sinks/opcua/opcua-sink.js';
import { resolveBrokerSecrets } from '../../../src/app/service/broker-secrets.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { type RunConfigInput, RunConfigSchema } from '../../../src/app/service/run-config.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { OptionError } from '../../../src/core/options.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { createMetrics } from '../../../src/telemetry/metrics.js';
import { freePort } from '../../helpers/brokers.js';

function configWith(users: unknown[], pkiDir: string, port: number) {
  const input = {
    source: { kind: 'simulated', width: 32, blockRows: 8, maxBlocks: 1 },
    model: { path: resolveDemoModelDir() },
    sinks: { opcua: { port, host: '127.0.0.1', securityModes: ['None'], pkiDir, users } },
    metrics: { port: 0, host: '127.0.0.1' },
    viewer: { enabled: false },
  } as RunConfigInput;
  return validateConfig(RunConfigSchema, input, 'test');
}

describe('OPC UA users with passwordFile', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'opcua-password-file-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads the password from its file at start; a client logs in with it, not with another', async () => {
    const file = path.join(dir, 'plc-password');
    await writeFile(file, 'from-a-mounted-secret\n');
    const port = await freePort();
    const config = await resolveBrokerSecrets(
      configWith([{ username: 'plc', passwordFile: file }], path.join(dir, 'pki'), port),
    );
    const settings = config.sinks.opcua;
    if (settings === undefined) throw new Error('no opcua section');
    expect(settings.users).toEqual([{ username: 'plc', password: 'from-a-mounted-secret' }]);
    const sink = new OpcuaDecisionSink({
      ...settings,
      cameraIds: ['cam0'],
      modelVersion: 'test',
      metrics: createMetrics({ defaultMetrics: false }),
      logger: createLogger({ level: 'silent' }),
    });
    await sink.connect();
    const client = OPCUAClient.create({
      securityMode: MessageSecurityMode.None,
      securityPolicy: SecurityPolicy.None,
      endpointMustExist: false,
      connectionStrategy: { maxRetry: 0 },
    });
    try {
      await client.connect(`opc.tcp://127.0.0.1:${port}`);
      const session = await client.createSession({
        type: UserTokenType.UserName,
        userName: 'plc',
        password: 'from-a-mounted-secret',
      });
      await session.close();
      await expect(
        client.createSession({ type: UserTokenType.UserName, userName: 'plc', password: file }),
      ).rejects.toThrow(/BadUserAccessDenied/);
    } finally {
      await client.disconnect();
      await sink.close();
    }
  }, 60_000);

  it('names the setting of a file that cannot be read', async () => {
    const config = configWith(
      [{ username: 'plc', passwordFile: path.join(dir, 'missing') }],
      path.join(dir, 'pki'),
      4840,
    );
    await expect(resolveBrokerSecrets(config)).rejects.toThrow(
      'sinks.opcua.users.0.passwordFile: cannot read',
    );
  });

  it('refuses a user with both or neither in the config, and a sink given a file it did not read', () => {
    const pki = path.join(dir, 'pki');
    expect(() =>
      configWith([{ username: 'plc', password: 'x', passwordFile: '/run/secrets/p' }], pki, 4840),
    ).toThrow(ConfigError);
    expect(() => configWith([{ username: 'plc' }], pki, 4840)).toThrow(
      /password or passwordFile, one of them/,
    );
    expect(
      () =>
        new OpcuaDecisionSink({
          users: [{ username: 'plc', passwordFile: '/run/secrets/p' }],
          cameraIds: ['cam0'],
          modelVersion: 'test',
          metrics: createMetrics({ defaultMetrics: false }),
          logger: createLogger({ level: 'silent' }),
        }),
    ).toThrow(OptionError);
  });
});
