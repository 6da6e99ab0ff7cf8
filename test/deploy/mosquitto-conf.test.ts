import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, MOSQUITTO_BIN, waitForPort } from '../helpers/brokers.js';
import { asArray, asRecord, deployPath, inCi, readYamlDocuments } from './deploy-files.js';

const run = promisify(execFile);

/** mosquitto_passwd and mosquitto_sub ship with Debian's mosquitto / mosquitto-clients packages. */
const PASSWD_BIN = '/usr/bin/mosquitto_passwd';
const SUB_BIN = '/usr/bin/mosquitto_sub';

const present = existsSync(MOSQUITTO_BIN) && existsSync(PASSWD_BIN) && existsSync(SUB_BIN);
if (!present && !inCi) {
  console.warn(
    `test/deploy/mosquitto-conf.test.ts skipped: ${MOSQUITTO_BIN}, ${PASSWD_BIN} or ${SUB_BIN} not installed (apt-get install mosquitto mosquitto-clients)`,
  );
}

/** The users of deploy/mosquitto/acl, with the passwords this test generates its password file from. */
const USERS = {
  cubestream: 'cubestream-test-password',
  'camera-gateway': 'gateway-test-password',
  plc: 'plc-test-password',
} as const;
type User = keyof typeof USERS;

/**
 * The stack's mosquitto.conf moved to free ports of 127.0.0.1, a temp persistence dir, the
 * generated password file and the ACL files of deploy/mosquitto (everything else kept as
 * written). Throws if the lines to move are not there.
 */
function localConfig(
  conf: string,
  ports: { plant: number; health: number },
  dir: string,
  passwdFile: string,
): string {
  const lines: [RegExp, string][] = [
    [/^listener 1883 0\.0\.0\.0$/m, `listener ${ports.plant} 127.0.0.1`],
    [/^listener 1884 127\.0\.0\.1$/m, `listener ${ports.health} 127.0.0.1`],
    [/^password_file \/run\/secrets\/mosquitto-passwd$/m, `password_file ${passwdFile}`],
    [/^acl_file \/mosquitto\/config\/acl$/m, `acl_file ${deployPath('mosquitto', 'acl')}`],
    [
      /^acl_file \/mosquitto\/config\/acl-healthcheck$/m,
      `acl_file ${deployPath('mosquitto', 'acl-healthcheck')}`,
    ],
    [/^persistence_location .*$/m, `persistence_location ${dir}/`],
  ];
  let moved = conf;
  for (const [line, replacement] of lines) {
    expect(conf).toMatch(line);
    moved = moved.replace(line, replacement);
  }
  // mosquitto drops root privileges to user "mosquitto", which cannot read the temp dir.
  return process.getuid?.() === 0 ? `${moved}\nuser root\n` : moved;
}

describe.skipIf(!present && !inCi)('deploy/mosquitto on a real mosquitto 2: users, ACLs, healthcheck', () => {
  let dir = '';
  const ports = { plant: 0, health: 0 };
  let configPath = '';
  let broker: ChildProcess | undefined;
  const clients: MqttClient[] = [];

  async function startBroker(): Promise<void> {
    const proc = spawn(MOSQUITTO_BIN, ['-c', configPath], { stdio: 'ignore' });
    broker = proc;
    const alive = () => proc.exitCode === null && proc.signalCode === null;
    await waitForPort(ports.plant, 10_000, alive);
    await waitForPort(ports.health, 10_000, alive);
  }

  async function stopBroker(): Promise<void> {
    const proc = broker;
    broker = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    await exited;
  }

  /** An MQTT 5 client of the plant listener logged in as `user` (or anonymous). */
  async function connect(user: User | undefined, options: IClientOptions = {}): Promise<MqttClient> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.plant}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
      ...(user === undefined ? {} : { username: user, password: USERS[user] }),
      ...options,
    });
    clients.push(client);
    return client;
  }

  /** Topics and payloads a client receives, in order. */
  function received(client: MqttClient): string[] {
    const seen: string[] = [];
    client.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString('utf8')}`));
    return seen;
  }

  async function until(predicate: () => boolean, what: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-deploy-mosquitto-'));
    ports.plant = await freePort();
    ports.health = await freePort();
    // The password file as the operator makes it (deploy/README.md), batch mode for the test.
    const passwdFile = path.join(dir, 'mosquitto-passwd');
    for (const [index, [user, password]] of Object.entries(USERS).entries()) {
      await run(PASSWD_BIN, [...(index === 0 ? ['-c'] : []), '-b', passwdFile, user, password]);
    }
    expect(await readFile(passwdFile, 'utf8')).not.toContain(USERS.cubestream);
    configPath = path.join(dir, 'mosquitto.conf');
    const conf = await readFile(deployPath('mosquitto', 'mosquitto.conf'), 'utf8');
    await writeFile(configPath, localConfig(conf, ports, dir, passwdFile));
    await startBroker();
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.endAsync(true)));
    await stopBroker();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  it('refuses anonymous clients and wrong passwords on the plant listener', async () => {
    await expect(connect(undefined)).rejects.toThrow(/not authori[sz]ed/i);
    await expect(connect(undefined, { protocolVersion: 4 })).rejects.toThrow(/not authori[sz]ed/i);
    await expect(connect('cubestream', { password: 'not-the-password' })).rejects.toThrow(
      /not authori[sz]ed|bad user name or password/i,
    );
  });

  it('cubestream reads frames and writes decisions; it may not publish frames, the PLC may not publish decisions', async () => {
    const service = await connect('cubestream');
    const gateway = await connect('camera-gateway');
    const plc = await connect('plc');
    const serviceGot = received(service);
    const plcGot = received(plc);
    await service.subscribeAsync('cubestream/+/frames', { qos: 1 });
    await plc.subscribeAsync('cubestream/+/decisions', { qos: 1 });

    // Refused publishes answer "not authorized" to MQTT 5 clients and reach nobody ...
    await expect(service.publishAsync('cubestream/cam0/frames', 'forged', { qos: 1 })).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    await expect(plc.publishAsync('cubestream/cam0/decisions', 'forged', { qos: 1 })).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    // ... while the granted ones, sent after them, arrive.
    await gateway.publishAsync('cubestream/cam0/frames', 'frame', { qos: 1 });
    await service.publishAsync('cubestream/cam0/decisions', 'decision', { qos: 1 });
    await service.publishAsync('cubestream/cam0/deadletter', 'letter', { qos: 1 });
    await until(() => serviceGot.length > 0 && plcGot.length > 0, 'the granted messages');
    expect(serviceGot).toEqual(['cubestream/cam0/frames frame']);
    expect(plcGot).toEqual(['cubestream/cam0/decisions decision']);
    // The gateway may not read what it does not need (its subscription delivers nothing).
    const gatewayGot = received(gateway);
    await gateway.subscribeAsync('cubestream/#', { qos: 1 });
    await service.publishAsync('cubestream/cam0/decisions', 'second', { qos: 1 });
    await until(() => plcGot.length === 2, 'the second decision');
    expect(gatewayGot).toEqual([]);
  });

  it("runs compose's healthcheck command on the loopback listener, where anonymous clients read only $SYS/broker/uptime", async () => {
    const [doc] = await readYamlDocuments(deployPath('compose.yaml'));
    const mosquitto = asRecord(
      asRecord(asRecord(doc, 'compose').services, 'services').mosquitto,
      'mosquitto',
    );
    const test = asArray(asRecord(mosquitto.healthcheck, 'healthcheck').test, 'test').map(String);
    expect(test.slice(0, 2)).toEqual(['CMD', 'mosquitto_sub']);
    // compose turns `$$` into `$`; the port of the loopback listener moves like the listener.
    const args = test.slice(2).map((arg) => arg.replaceAll('$$', '$'));
    const port = args.indexOf('-p') + 1;
    expect(args[port]).toBe('1884');
    args[port] = String(ports.health);
    const { stdout } = await run(SUB_BIN, args, { timeout: 10_000 });
    expect(stdout.trim()).toMatch(/^\d+ seconds$/);

    // The same command against the plant listener is refused (no anonymous access there).
    args[port] = String(ports.plant);
    await expect(run(SUB_BIN, args, { timeout: 10_000 })).rejects.toThrow();

    const anonymous = await mqtt.connectAsync(`mqtt://127.0.0.1:${ports.health}`, {
      protocolVersion: 5,
      reconnectPeriod: 0,
    });
    clients.push(anonymous);
    await expect(anonymous.publishAsync('cubestream/cam0/frames', 'x', { qos: 1 })).rejects.toThrow(
      /not authori[sz]ed/i,
    );
    const anonymousGot = received(anonymous);
    await anonymous.subscribeAsync('cubestream/#', { qos: 1 });
    const plc = await connect('plc');
    const plcGot = received(plc);
    await plc.subscribeAsync('cubestream/+/decisions', { qos: 1 });
    const service = await connect('cubestream');
    await service.publishAsync('cubestream/cam1/decisions', 'decision', { qos: 1 });
    await until(() => plcGot.length > 0, 'the decision at the PLC');
    expect(anonymousGot).toEqual([]);
  });

  it('keeps retained status messages across a restart (persistence), readable by the PLC', async () => {
    const topic = 'cubestream/cam1/status';
    const publisher = await connect('cubestream');
    await publisher.publishAsync(topic, 'online', { qos: 1, retain: true });
    await publisher.endAsync();

    await stopBroker(); // SIGTERM: mosquitto writes its persistence db on exit
    expect(existsSync(path.join(dir, 'mosquitto.db'))).toBe(true);
    await startBroker();

    const subscriber = await connect('plc');
    const got = received(subscriber);
    await subscriber.subscribeAsync(topic, { qos: 1 });
    await until(() => got.length > 0, 'the retained status');
    expect(got).toEqual([`${topic} online`]);
  });
});
