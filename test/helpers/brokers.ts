/**
 * Real brokers for tests: `mosquitto` (MQTT 3.1.1/5) and `nats-server -js`, each started from a
 * generated config file in its own temp dir, on a free port of 127.0.0.1 (never 1883/4222), and
 * restartable on the same port with its persistent state (mosquitto db, JetStream store).
 *
 * @example
 * ```ts
 * const broker = await startMosquitto();
 * await broker.stop('SIGKILL');
 * await broker.start(); // same port, same persistence dir
 * await broker.dispose(); // in afterAll
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, existsSync, openSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/** Where Debian installs the brokers. */
export const MOSQUITTO_BIN = '/usr/sbin/mosquitto';
/** Where Debian installs nats-server. */
export const NATS_SERVER_BIN = '/usr/sbin/nats-server';

/** True when both broker binaries are installed (tests skip or fail on it). */
export const brokersInstalled = existsSync(MOSQUITTO_BIN) && existsSync(NATS_SERVER_BIN);

/** A broker process the test controls. */
export interface TestBroker {
  /** Port on 127.0.0.1, kept across restarts. */
  readonly port: number;
  /** Client URL: `mqtt://127.0.0.1:<port>` or `nats://127.0.0.1:<port>`. */
  readonly url: string;
  /** Temp dir holding the config, log and persistent state. */
  readonly dir: string;
  /** Starts (or restarts) the broker on the same port; resolves once the port accepts connections. */
  start(): Promise<void>;
  /** Stops the broker with a signal (SIGKILL: no chance to persist); resolves when it exited. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Stops the broker and removes its temp dir. */
  dispose(): Promise<void>;
  /** True while the process runs. */
  readonly running: boolean;
}

/** Finds a free TCP port on 127.0.0.1 (asks the kernel for an ephemeral one). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return address.port;
}

/** Resolves once `127.0.0.1:<port>` accepts a TCP connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000, isAlive = () => true): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => {
        socket.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    if (!isAlive()) throw new Error(`broker on port ${port} exited before accepting connections`);
    if (Date.now() > deadline)
      throw new Error(`port ${port} not accepting connections after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface BrokerSpec {
  readonly bin: string;
  readonly args: (configPath: string) => string[];
  readonly config: (port: number, dir: string) => string;
  readonly scheme: string;
  readonly name: string;
}

async function startBroker(spec: BrokerSpec): Promise<TestBroker> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `cubestream-${spec.name}-`));
  const port = await freePort();
  const configPath = path.join(dir, `${spec.name}.conf`);
  await writeFile(configPath, spec.config(port, dir));
  const logPath = path.join(dir, `${spec.name}.log`);
  let child: ChildProcess | undefined;

  const broker: TestBroker = {
    port,
    url: `${spec.scheme}://127.0.0.1:${port}`,
    dir,
    get running() {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    async start() {
      if (broker.running) return;
      const log = openSync(logPath, 'a');
      const proc = spawn(spec.bin, spec.args(configPath), { stdio: ['ignore', log, log] });
      closeSync(log);
      child = proc;
      await waitForPort(port, 10_000, () => proc.exitCode === null && proc.signalCode === null);
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const proc = child;
      if (proc === undefined || !broker.running) return;
      const exited = once(proc, 'exit');
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
    async dispose() {
      await broker.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  await broker.start();
  return broker;
}

/** Options of {@link startMosquitto}. */
export interface MosquittoOptions {
  /** Default true; false makes every connection without credentials fail with "not authorized". */
  allowAnonymous?: boolean;
  /** Serve MQTT over TLS (`mqtts://`) with these PEM files. */
  tls?: { readonly certFile: string; readonly keyFile: string };
}

/**
 * Starts mosquitto 2 on a free port with anonymous access and persistence on (saved on SIGTERM
 * and every second), so that persistent sessions and retained messages survive a restart.
 */
export async function startMosquitto(options: MosquittoOptions = {}): Promise<TestBroker> {
  return startBroker({
    name: 'mosquitto',
    bin: MOSQUITTO_BIN,
    scheme: options.tls === undefined ? 'mqtt' : 'mqtts',
    args: (config) => ['-c', config],
    config: (port, dir) =>
      [
        `listener ${port} 127.0.0.1`,
        ...(options.tls === undefined
          ? []
          : [`certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`]),
        `allow_anonymous ${options.allowAnonymous === false ? 'false' : 'true'}`,
        'persistence true',
        `persistence_location ${dir}/`,
        'autosave_interval 1',
        'max_queued_messages 100000',
        // mosquitto drops root privileges to user "mosquitto", which cannot write the temp dir.
        process.getuid?.() === 0 ? 'user root' : '',
        'log_type error',
        'log_type warning',
        'log_type notice',
        '',
      ].join('\n'),
  });
}

/** Options of {@link startNatsServer}. */
export interface NatsServerOptions {
  /** Require TLS with these PEM files. */
  tls?: { readonly certFile: string; readonly keyFile: string };
}

/** Starts nats-server with JetStream (file store in the temp dir, survives restarts) on a free port. */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<TestBroker> {
  return startBroker({
    name: 'nats',
    bin: NATS_SERVER_BIN,
    scheme: 'nats',
    args: (config) => ['-c', config],
    config: (port, dir) =>
      [
        `listen: "127.0.0.1:${port}"`,
        `jetstream { store_dir: ${JSON.stringify(path.join(dir, 'jetstream'))} }`,
        ...(options.tls === undefined
          ? []
          : [
              `tls { cert_file: ${JSON.stringify(options.tls.certFile)}, key_file: ${JSON.stringify(options.tls.keyFile)} }`,
            ]),
        '',
      ].join('\n'),
  });
}

/** A JetStream cluster of nats-server processes the test controls. */
export interface TestNatsCluster {
  readonly nodes: readonly TestBroker[];
  /** Every node's client URL (give them all to a client: it fails over). */
  readonly urls: readonly string[];
  dispose(): Promise<void>;
}

/**
 * Starts `size` nats-servers with JetStream in one cluster (routes on free ports, each its own
 * store), for replicated streams (`replicas` up to `size`); resolves once every client port accepts.
 */
export async function startNatsCluster(size = 3): Promise<TestNatsCluster> {
  const routes: number[] = [];
  for (let i = 0; i < size; i++) routes.push(await freePort());
  const nodes: TestBroker[] = [];
  try {
    for (let i = 0; i < size; i++) {
      nodes.push(
        await startBroker({
          name: `nats-n${i}`,
          bin: NATS_SERVER_BIN,
          scheme: 'nats',
          args: (config) => ['-c', config],
          config: (port, dir) =>
            [
              `server_name: n${i}`,
              `listen: "127.0.0.1:${port}"`,
              `jetstream { store_dir: ${JSON.stringify(path.join(dir, 'jetstream'))} }`,
              'cluster {',
              '  name: cubestream-test',
              `  listen: "127.0.0.1:${routes[i]}"`,
              `  routes: [${routes.map((p) => `"nats-route://127.0.0.1:${p}"`).join(', ')}]`,
              '}',
              '',
            ].join('\n'),
        }),
      );
    }
  } catch (error) {
    await Promise.all(nodes.map((node) => node.dispose()));
    throw error;
  }
  return {
    nodes,
    urls: nodes.map((node) => node.url),
    dispose: async () => {
      await Promise.all(nodes.map((node) => node.dispose()));
    },
  };
}
