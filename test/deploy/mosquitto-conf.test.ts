import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, MOSQUITTO_BIN, waitForPort } from '../helpers/brokers.js';
import { deployPath, inCi } from './deploy-files.js';

const present = existsSync(MOSQUITTO_BIN);
if (!present && !inCi) {
  console.warn(
    `test/deploy/mosquitto-conf.test.ts skipped: ${MOSQUITTO_BIN} not installed (apt-get install mosquitto)`,
  );
}

/**
 * The compose stack's mosquitto.conf, moved to a free port of 127.0.0.1 and a temp persistence
 * dir (everything else kept as written). Throws if the lines to move are not there.
 */
function localConfig(conf: string, port: number, dir: string): string {
  const listener = /^listener 1883 0\.0\.0\.0$/m;
  const location = /^persistence_location .*$/m;
  expect(conf).toMatch(listener);
  expect(conf).toMatch(location);
  const moved = conf
    .replace(listener, `listener ${port} 127.0.0.1`)
    .replace(location, `persistence_location ${dir}/`);
  // mosquitto drops root privileges to user "mosquitto", which cannot write the temp dir.
  return process.getuid?.() === 0 ? `${moved}\nuser root\n` : moved;
}

describe.skipIf(!present && !inCi)('deploy/mosquitto/mosquitto.conf on a real mosquitto 2', () => {
  let dir = '';
  let port = 0;
  let configPath = '';
  let broker: ChildProcess | undefined;

  async function startBroker(): Promise<void> {
    const proc = spawn(MOSQUITTO_BIN, ['-c', configPath], { stdio: 'ignore' });
    broker = proc;
    await waitForPort(port, 10_000, () => proc.exitCode === null && proc.signalCode === null);
  }

  async function stopBroker(): Promise<void> {
    const proc = broker;
    broker = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-deploy-mosquitto-'));
    port = await freePort();
    configPath = path.join(dir, 'mosquitto.conf');
    const conf = await readFile(deployPath('mosquitto', 'mosquitto.conf'), 'utf8');
    await writeFile(configPath, localConfig(conf, port, dir));
    await startBroker();
  });

  afterAll(async () => {
    await stopBroker();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('accepts anonymous MQTT 5 clients and keeps retained messages across a restart (persistence)', async () => {
    const url = `mqtt://127.0.0.1:${port}`;
    const topic = 'cubestream/cam1/status';
    const publisher = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    await publisher.publishAsync(topic, 'online', { qos: 1, retain: true });
    await publisher.endAsync();

    await stopBroker(); // SIGTERM: mosquitto writes its persistence db on exit
    expect(existsSync(path.join(dir, 'mosquitto.db'))).toBe(true);
    await startBroker();

    const subscriber = await mqtt.connectAsync(url, { protocolVersion: 5, reconnectPeriod: 0 });
    try {
      const received = new Promise<string>((resolve) => {
        subscriber.on('message', (t, payload) => {
          if (t === topic) resolve(payload.toString('utf8'));
        });
      });
      await subscriber.subscribeAsync(topic, { qos: 1 });
      expect(await received).toBe('online');
    } finally {
      await subscriber.endAsync();
    }
  });
});
