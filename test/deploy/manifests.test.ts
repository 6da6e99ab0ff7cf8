import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { FRAME_STREAM_DEFAULTS } from '../../connectors/sinks/frame-stream.js';
import { publishCommand } from '../../src/app/cli/commands/publish.js';
import { loadRunConfig } from '../../src/app/service/run-config.js';
import { asArray, asRecord, deployPath, readYamlDocuments, repoRoot } from './deploy-files.js';

const RUN_COMMAND = ['run', '--config', '/app/configs/run/production.yaml'];
const PRODUCTION_CONFIG = path.join(repoRoot, 'configs', 'run', 'production.yaml');
/** Where the stack mounts the MQTT password of the broker user `cubestream` (compose secret, k8s Secret). */
const MQTT_PASSWORD_FILE = '/run/secrets/mqtt-password';

async function mosquittoConf(): Promise<string> {
  return readFile(deployPath('mosquitto', 'mosquitto.conf'), 'utf8');
}

/** The value of the first `key value` line of a mosquitto.conf text (undefined when absent). */
function mosquittoSetting(conf: string, key: string): string | undefined {
  return new RegExp(`^${key} (.+)$`, 'm').exec(conf)?.[1]?.trim();
}

/** The lines of a mosquitto.conf from `listener <port> ...` up to the next listener. */
function listenerSection(conf: string, port: string): string {
  const start = conf.search(new RegExp(`^listener ${port} `, 'm'));
  expect(start, `listener ${port}`).toBeGreaterThanOrEqual(0);
  const next = conf.slice(start + 1).search(/^listener /m);
  return next < 0 ? conf.slice(start) : conf.slice(start, start + 1 + next);
}

/**
 * Paths of non-empty string values under keys that name a secret (`password`, `passwd`, `pass`,
 * `token`, any case or separator) in a parsed YAML tree; keys naming a file (`passwordFile`,
 * `GF_..._PASSWORD__FILE`, `credentials_file`) hold paths and are not secrets.
 */
function secretValues(tree: unknown, where: string, at = ''): string[] {
  if (Array.isArray(tree)) return tree.flatMap((item, i) => secretValues(item, where, `${at}[${i}]`));
  if (typeof tree !== 'object' || tree === null) return [];
  return Object.entries(tree).flatMap(([key, value]) => {
    const here = at === '' ? key : `${at}.${key}`;
    if (typeof value === 'string')
      return /(password|passwd|pass|token)$/i.test(key) && value.trim() !== '' ? [`${where}: ${here}`] : [];
    return secretValues(value, where, here);
  });
}

/** The `metrics` and `viewer` sections of configs/run/production.yaml. */
async function httpSections(): Promise<{
  metrics: Record<string, unknown>;
  viewer: Record<string, unknown>;
}> {
  const config = asRecord(parse(await readFile(PRODUCTION_CONFIG, 'utf8')), 'production.yaml');
  return { metrics: asRecord(config.metrics, 'metrics'), viewer: asRecord(config.viewer, 'viewer') };
}

/** The tokenFile of a section's `auth` (the deploy stack reads every token from a file). */
function tokenFileOf(section: Record<string, unknown>, what: string): string {
  const auth = asRecord(section.auth, `${what}.auth`);
  expect(auth.token, `${what}.auth.token must not be inline`).toBeUndefined();
  return String(auth.tokenFile);
}

async function compose(): Promise<Record<string, unknown>> {
  const [doc] = await readYamlDocuments(deployPath('compose.yaml'));
  return asRecord(doc, 'compose.yaml');
}

function service(doc: Record<string, unknown>, name: string): Record<string, unknown> {
  return asRecord(asRecord(doc.services, 'services')[name], `services.${name}`);
}

/** A compose short-syntax volume `source:target[:mode]` split into its parts. */
function volume(spec: unknown): { source: string; target: string } {
  const [source = '', target = ''] = String(spec).split(':');
  return { source, target };
}

/** `host` and `port` of a broker URL (`mqtt://mosquitto:1883`, `nats://nats:4222`). */
function hostPort(url: unknown): { host: string; port: number } {
  const parsed = new URL(String(url));
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** Every broker URL of a run config: the source's, the MQTT sink's and the NATS sink's servers. */
function brokerUrls(config: Record<string, unknown>): string[] {
  const source = asRecord(config.source, 'source');
  const sinks = asRecord(config.sinks, 'sinks');
  const servers = (value: unknown): unknown[] =>
    Array.isArray(value) ? value : value === undefined ? [] : [value];
  return [
    ...servers(source.url),
    ...servers(source.servers),
    ...servers(asRecord(sinks.mqtt ?? {}, 'sinks.mqtt').url),
    ...servers(asRecord(sinks.nats ?? {}, 'sinks.nats').servers),
  ].map(String);
}

/** The values of every `--set` in an argument list. */
function setValues(args: readonly string[]): string[] {
  return args.flatMap((arg, i) => (args[i - 1] === '--set' ? [arg] : []));
}

/** The value after `--flag` in an argument list (undefined when absent). */
function flag(args: readonly string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

/** Runs `node -e script` and resolves with its exit code. */
async function runNode(script: string): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

/** Every Kubernetes object of deploy/k8s, keyed `Kind/name`. */
async function k8sObjects(): Promise<Map<string, Record<string, unknown>>> {
  const dir = deployPath('k8s');
  const objects = new Map<string, Record<string, unknown>>();
  for (const file of (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of await readYamlDocuments(path.join(dir, file))) {
      if (doc === null) continue;
      const object = asRecord(doc, file);
      expect(typeof object.apiVersion, `${file} apiVersion`).toBe('string');
      const name = String(asRecord(object.metadata, `${file} metadata`).name);
      objects.set(`${String(object.kind)}/${name}`, object);
    }
  }
  return objects;
}

function get(objects: Map<string, Record<string, unknown>>, key: string): Record<string, unknown> {
  const object = objects.get(key);
  if (object === undefined)
    throw new Error(`deploy/k8s has no ${key}; found ${[...objects.keys()].join(', ')}`);
  return object;
}

describe('deploy/compose.yaml', () => {
  it('runs cameras, cubestream workers, mosquitto 2, nats with JetStream, prometheus and grafana with the expected ports', async () => {
    const doc = await compose();
    expect(Object.keys(asRecord(doc.services, 'services')).sort()).toEqual([
      'camera',
      'camera-1',
      'camera-2',
      'cubestream',
      'grafana',
      'mosquitto',
      'nats',
      'prometheus',
      'worker',
    ]);
    const images: Record<string, RegExp> = {
      mosquitto: /^eclipse-mosquitto:2\b/,
      nats: /^nats:2\b/,
      prometheus: /^prom\/prometheus:v\d/,
      grafana: /^grafana\/grafana:\d/,
    };
    for (const [name, image] of Object.entries(images))
      expect(String(service(doc, name).image)).toMatch(image);
    const ports: Record<string, string[]> = {
      cubestream: ['9464:9464', '8080:8080'],
      mosquitto: ['1883:1883'],
      nats: ['4222:4222'],
      prometheus: ['9090:9090'],
      grafana: ['3000:3000'],
    };
    for (const [name, expected] of Object.entries(ports)) {
      expect(asArray(service(doc, name).ports, `${name}.ports`), name).toEqual(
        expect.arrayContaining(expected),
      );
    }
    const nats = asArray(service(doc, 'nats').command, 'nats.command').map(String);
    expect(nats).toContain('-js');
    const storeDir = nats[nats.indexOf('-sd') + 1];
    expect(asArray(service(doc, 'nats').volumes, 'nats.volumes').map((v) => volume(v).target)).toContain(
      storeDir,
    );
  });

  it('builds cubestream from deploy/Dockerfile with the run command and the config mounted where it reads it', async () => {
    const doc = await compose();
    const cubestream = service(doc, 'cubestream');
    const build = asRecord(cubestream.build, 'cubestream.build');
    const context = path.resolve(deployPath(), String(build.context));
    expect(existsSync(path.join(context, String(build.dockerfile)))).toBe(true);
    expect(path.join(context, String(build.dockerfile))).toBe(deployPath('Dockerfile'));
    expect(asArray(cubestream.command, 'cubestream.command').slice(0, RUN_COMMAND.length)).toEqual(
      RUN_COMMAND,
    );
    const config = asArray(cubestream.volumes, 'cubestream.volumes')
      .map(volume)
      .find((m) => m.target === RUN_COMMAND[2]);
    expect(path.resolve(deployPath(), config?.source ?? '')).toBe(PRODUCTION_CONFIG);
  });

  it('gives every service a healthcheck and makes dependants wait for service_healthy', async () => {
    const doc = await compose();
    const services = asRecord(doc.services, 'services');
    for (const name of Object.keys(services)) {
      const test = asArray(asRecord(service(doc, name).healthcheck, `${name}.healthcheck`).test, 'test');
      expect(test[0], name).toBe('CMD');
    }
    const cubestreamCheck = JSON.stringify(asRecord(service(doc, 'cubestream').healthcheck, 'hc').test);
    expect(cubestreamCheck).toContain('127.0.0.1:9464/healthz');
    // Compose interpolates `$`: the literal $SYS topic must be written `$$SYS`.
    expect(JSON.stringify(asRecord(service(doc, 'mosquitto').healthcheck, 'hc').test)).toContain('$$SYS/');
    const dependsOn = (name: string): Record<string, unknown> =>
      asRecord(service(doc, name).depends_on, `${name}.depends_on`);
    expect(Object.keys(dependsOn('cubestream')).sort()).toEqual(['mosquitto', 'nats']);
    expect(Object.keys(dependsOn('camera'))).toEqual(['nats']);
    expect(Object.keys(dependsOn('worker')).sort()).toEqual(['mosquitto', 'nats']);
    expect(Object.keys(dependsOn('grafana'))).toEqual(['prometheus']);
    for (const name of ['cubestream', 'camera', 'grafana']) {
      for (const [dep, value] of Object.entries(dependsOn(name))) {
        expect(asRecord(value, `${name} -> ${dep}`).condition, `${name} -> ${dep}`).toBe('service_healthy');
      }
    }
  });

  it('has a frame source: the camera gateway publishes to the JetStream stream that cubestream consumes', async () => {
    const doc = await compose();
    const camera = service(doc, 'camera');
    const cubestream = service(doc, 'cubestream');
    // the same image, built by either service
    expect(camera.image).toBe(cubestream.image);
    expect(camera.build).toEqual(cubestream.build);
    const args = asArray(camera.command, 'camera.command').map(String);
    expect(args[0]).toBe('publish');
    // every flag is one `cubestream publish` knows
    for (const arg of args.filter((a) => a.startsWith('--')))
      expect(Object.keys(publishCommand.options ?? {}), arg).toContain(arg.slice(2));
    expect(flag(args, '--from')).toBe('simulated');
    expect(flag(args, '--blocks'), 'runs until the stack stops').toBeUndefined();
    // 16 lines x 256 px x 61 bands of uint16 stay under NATS's default 1 MiB max_payload
    expect(Number(flag(args, '--block-rows')) * 256 * 61 * 2).toBeLessThan(1024 * 1024 - 4096);

    // cubestream's command: production.yaml, its source replaced by the JetStream consumer
    const command = asArray(cubestream.command, 'cubestream.command').map(String);
    const overrides = setValues(command);
    const config = await loadRunConfig(PRODUCTION_CONFIG, overrides);
    const source = config.source;
    if (source.kind !== 'jetstream')
      throw new Error(`compose cubestream reads ${source.kind}, not jetstream`);
    const servers = Array.isArray(source.servers) ? source.servers : [source.servers];
    expect(servers).toContain(flag(args, '--to'));
    expect(source.cameraIds).toContain(flag(args, '--camera'));
    expect(source.stream).toBe(flag(args, '--stream') ?? FRAME_STREAM_DEFAULTS.name);
    expect(source.subjectPrefix).toBe(flag(args, '--subject-prefix') ?? 'cubestream');
    // redeliveries (ackWait x maxDeliver) fall within the decisions stream's duplicate window
    const nats = config.sinks.nats;
    expect(nats?.stream.duplicateWindowMs).toBeGreaterThan(source.ackWaitSeconds * 1000 * source.maxDeliver);
  });

  it('runs N leased workers on the cameras the gateways publish: the same command, the ports published once', async () => {
    const doc = await compose();
    const cubestream = service(doc, 'cubestream');
    const worker = service(doc, 'worker');
    expect(worker.command).toEqual(cubestream.command);
    expect(worker.image).toBe(cubestream.image);
    expect(worker.ports, 'replicas cannot share host ports').toBeUndefined();
    expect(Number(asRecord(worker.deploy, 'worker.deploy').replicas)).toBeGreaterThanOrEqual(2);
    const command = asArray(cubestream.command, 'cubestream.command').map(String);
    const overrides = setValues(command);
    const source = (await loadRunConfig(PRODUCTION_CONFIG, overrides)).source;
    if (source.kind !== 'jetstream' || source.leases === undefined)
      throw new Error('compose workers are not leased jetstream workers');
    expect(source.leases.checkpoints.enabled).toBe(true);
    // Every camera a gateway publishes is one the workers share, and each is published once.
    const published = ['camera', 'camera-1', 'camera-2'].map((name) =>
      flag(asArray(service(doc, name).command, `${name}.command`).map(String), '--camera'),
    );
    expect(new Set(published).size).toBe(published.length);
    expect([...source.cameraIds].sort()).toEqual([...published].sort());
  });

  it('the run config reaches its brokers at compose service names and ports', async () => {
    const doc = await compose();
    const command = asArray(service(doc, 'cubestream').command, 'command').map(String);
    const overrides = setValues(command);
    const configs = [
      asRecord(parse(await readFile(PRODUCTION_CONFIG, 'utf8')), 'production.yaml'),
      (await loadRunConfig(PRODUCTION_CONFIG, overrides)) as unknown as Record<string, unknown>,
    ];
    const publishTo = flag(asArray(service(doc, 'camera').command, 'camera').map(String), '--to');
    for (const url of [...configs.flatMap(brokerUrls), publishTo]) {
      const { host, port } = hostPort(url);
      const ports = asArray(service(doc, host).ports ?? [], `${host}.ports`).map((p) =>
        Number(String(p).split(':').at(-1)),
      );
      expect(ports, String(url)).toContain(port);
    }
  });

  it('camera healthcheck: healthy while CUBESTREAM_FRAMES stored a frame in the last 30 s (run for real)', async () => {
    const doc = await compose();
    const test = asArray(asRecord(service(doc, 'camera').healthcheck, 'healthcheck').test, 'test').map(
      String,
    );
    expect(test.slice(0, 3)).toEqual(['CMD', 'node', '-e']);
    const script = test[3] ?? '';
    expect(script).toContain("'http://nats:8222/jsz?streams=true'");
    let lastTs: string | undefined;
    const server: Server = createServer((_req, res) => {
      const streams = lastTs === undefined ? [] : [{ name: 'CUBESTREAM_FRAMES', state: { last_ts: lastTs } }];
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ account_details: [{ name: '$G', stream_detail: streams }] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const local = script.replace('http://nats:8222/', `http://127.0.0.1:${port}/`);
    try {
      lastTs = new Date(Date.now() - 1000).toISOString();
      expect(await runNode(local)).toBe(0);
      lastTs = new Date(Date.now() - 120_000).toISOString();
      expect(await runNode(local)).toBe(1);
      lastTs = undefined;
      expect(await runNode(local)).toBe(1);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await runNode(local)).toBe(1);
  });

  it('mounts existing files: mosquitto.conf and its ACLs, the Prometheus folder and the Grafana provisioning', async () => {
    const doc = await compose();
    const mounts = Object.keys(asRecord(doc.services, 'services')).flatMap((name) =>
      asArray(service(doc, name).volumes ?? [], `${name}.volumes`).map((v) => ({ name, ...volume(v) })),
    );
    const binds = mounts.filter((m) => m.source.startsWith('./'));
    expect(binds.map((m) => m.target).sort()).toEqual([
      '/etc/grafana/provisioning',
      '/etc/prometheus',
      '/mosquitto/config/acl',
      '/mosquitto/config/acl-healthcheck',
      '/mosquitto/config/mosquitto.conf',
      '/var/lib/grafana/dashboards',
    ]);
    for (const bind of binds)
      expect(existsSync(path.resolve(deployPath(), bind.source)), bind.source).toBe(true);
    const named = mounts.filter((m) => !m.source.startsWith('.') && !m.source.startsWith('/'));
    const declared = Object.keys(asRecord(doc.volumes, 'volumes'));
    for (const m of named) expect(declared, `${m.name}: ${m.source}`).toContain(m.source);

    const prometheus = asArray(service(doc, 'prometheus').command, 'prometheus.command').map(String);
    expect(prometheus).toContain('--config.file=/etc/prometheus/prometheus.yml');
    expect(existsSync(deployPath('prometheus', 'prometheus.yml'))).toBe(true);
  });

  it('wires Prometheus -> every worker on :9464 and Grafana -> prometheus:9090 and the dashboards folder', async () => {
    const doc = await compose();
    const prom = asRecord(parse(await readFile(deployPath('prometheus', 'prometheus.yml'), 'utf8')), 'prom');
    const jobs = asArray(prom.scrape_configs, 'scrape_configs').map((job) => asRecord(job, 'job'));
    const job = jobs.find((j) => j.job_name === 'cubestream');
    expect(job?.metrics_path).toBe('/metrics');
    // One A record per container of each worker service, on the metrics port.
    const [dns] = asArray(job?.dns_sd_configs, 'dns_sd_configs').map((d) => asRecord(d, 'dns_sd_config'));
    expect(dns?.type).toBe('A');
    expect(dns?.port).toBe(9464);
    expect(asArray(dns?.names, 'names')).toEqual(['cubestream', 'worker']);
    // cubestream's /metrics needs the bearer token: the same file the service reads
    const authorization = asRecord(job?.authorization, 'cubestream job authorization');
    expect(authorization.type ?? 'Bearer').toBe('Bearer');
    expect(authorization.credentials_file).toBe(tokenFileOf((await httpSections()).metrics, 'metrics'));

    const datasources = asRecord(
      parse(await readFile(deployPath('grafana', 'provisioning', 'datasources', 'prometheus.yaml'), 'utf8')),
      'datasources',
    );
    const [ds] = asArray(datasources.datasources, 'datasources').map((d) => asRecord(d, 'datasource'));
    expect(ds?.type).toBe('prometheus');
    expect(ds?.url).toBe('http://prometheus:9090');
    expect(ds?.uid).toBe('prometheus');

    const providers = asRecord(
      parse(await readFile(deployPath('grafana', 'provisioning', 'dashboards', 'cubestream.yaml'), 'utf8')),
      'providers',
    );
    const [provider] = asArray(providers.providers, 'providers').map((p) => asRecord(p, 'provider'));
    const dashboardsPath = String(asRecord(provider?.options, 'options').path);
    const grafanaMount = asArray(service(doc, 'grafana').volumes, 'grafana.volumes')
      .map(volume)
      .find((m) => m.target === dashboardsPath);
    expect(grafanaMount?.source).toBe('./grafana/dashboards');
    const home = String(
      asRecord(service(doc, 'grafana').environment, 'env').GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH,
    );
    expect(
      existsSync(path.join(deployPath('grafana', 'dashboards'), path.relative(dashboardsPath, home))),
    ).toBe(true);
  });
});

describe('HTTP endpoints of the deploy stack', () => {
  it('production.yaml binds both servers on every interface, explicitly, behind tokens read from /run/secrets', async () => {
    const { metrics, viewer } = await httpSections();
    expect(metrics.host).toBe('0.0.0.0');
    expect(viewer.host).toBe('0.0.0.0');
    expect(tokenFileOf(metrics, 'metrics')).toBe('/run/secrets/metrics-token');
    expect(tokenFileOf(viewer, 'viewer')).toBe('/run/secrets/viewer-token');
  });

  it('compose hands each secret file to the services that read it, kept out of git', async () => {
    const doc = await compose();
    const { metrics, viewer } = await httpSections();
    const secrets = asRecord(doc.secrets, 'secrets');
    const mounted = (name: string): string[] =>
      asArray(service(doc, name).secrets, `${name}.secrets`).map((s) =>
        typeof s === 'string' ? `/run/secrets/${s}` : String(asRecord(s, 'secret').target),
      );
    expect(mounted('cubestream').sort()).toEqual(
      [tokenFileOf(metrics, 'metrics'), tokenFileOf(viewer, 'viewer'), MQTT_PASSWORD_FILE].sort(),
    );
    expect(mounted('prometheus')).toEqual([tokenFileOf(metrics, 'metrics')]);
    expect(mounted('mosquitto')).toEqual([mosquittoSetting(await mosquittoConf(), 'password_file')]);
    const grafanaEnv = asRecord(service(doc, 'grafana').environment, 'grafana.environment');
    expect(mounted('grafana')).toEqual([grafanaEnv.GF_SECURITY_ADMIN_PASSWORD__FILE]);
    for (const [name, value] of Object.entries(secrets)) {
      const file = String(asRecord(value, `secrets.${name}`).file);
      expect(file, name).toBe(`./secrets/${name}`);
    }
    const ignore = await readFile(deployPath('secrets', '.gitignore'), 'utf8');
    expect(ignore.split('\n')).toEqual(expect.arrayContaining(['*', '!.gitignore']));
  });
});

describe('no default passwords in deploy/', () => {
  it('Grafana reads its admin password from a secret file; anonymous access and sign-up are off', async () => {
    const env = asRecord(service(await compose(), 'grafana').environment, 'grafana.environment');
    expect(env.GF_SECURITY_ADMIN_PASSWORD).toBeUndefined();
    expect(env.GF_SECURITY_ADMIN_PASSWORD__FILE).toBe('/run/secrets/grafana-admin-password');
    expect(env.GF_AUTH_ANONYMOUS_ENABLED).toBe('false');
    expect(env.GF_USERS_ALLOW_SIGN_UP).toBe('false');
  });

  it('mosquitto: no anonymous access on 1883, a password file and the ACL of deploy/mosquitto/acl', async () => {
    const conf = await mosquittoConf();
    const plant = listenerSection(conf, '1883');
    expect(mosquittoSetting(plant, 'allow_anonymous')).toBe('false');
    expect(mosquittoSetting(plant, 'password_file')).toBe('/run/secrets/mosquitto-passwd');
    expect(mosquittoSetting(plant, 'acl_file')).toBe('/mosquitto/config/acl');
    expect(mosquittoSetting(conf, 'per_listener_settings')).toBe('true');
    // The only anonymous listener is the container's loopback, and its ACL grants $SYS only.
    const loopback = listenerSection(conf, '1884');
    expect(loopback.split('\n')[0]).toBe('listener 1884 127.0.0.1');
    const healthAcl = (await readFile(deployPath('mosquitto', 'acl-healthcheck'), 'utf8'))
      .split('\n')
      .filter((line) => line.trim() !== '' && !line.startsWith('#'));
    expect(healthAcl).toEqual(['topic read $SYS/broker/uptime']);
    const acl = await readFile(deployPath('mosquitto', 'acl'), 'utf8');
    for (const user of ['cubestream', 'camera-gateway', 'plc'])
      expect(acl).toMatch(new RegExp(`^user ${user}$`, 'm'));
  });

  it('production.yaml: the MQTT source and sink log in as cubestream, the password read from /run/secrets', async () => {
    const config = asRecord(parse(await readFile(PRODUCTION_CONFIG, 'utf8')), 'production.yaml');
    const source = asRecord(config.source, 'source');
    const sink = asRecord(asRecord(config.sinks, 'sinks').mqtt, 'sinks.mqtt');
    for (const [what, section] of [
      ['source', source],
      ['sinks.mqtt', sink],
    ] as const) {
      expect(section.username, what).toBe('cubestream');
      expect(section.passwordFile, what).toBe(MQTT_PASSWORD_FILE);
      expect(section.password, what).toBeUndefined();
    }
  });

  it('commits no password or token value in any YAML of deploy/ or the run config', async () => {
    const files = [
      ...(await readdir(deployPath('k8s'))).map((f) => deployPath('k8s', f)),
      deployPath('compose.yaml'),
      deployPath('prometheus', 'prometheus.yml'),
      deployPath('helm', 'cubestream', 'values.yaml'),
      PRODUCTION_CONFIG,
    ].filter((file) => /\.ya?ml$/.test(file));
    const found: string[] = [];
    for (const file of files) {
      for (const doc of await readYamlDocuments(file)) {
        found.push(...secretValues(doc, file));
        // the ConfigMap's embedded run config too
        const data = (doc as { data?: Record<string, unknown> } | null)?.data ?? {};
        for (const [key, value] of Object.entries(data)) {
          if (key.endsWith('.yaml')) found.push(...secretValues(parse(String(value)), `${file}: ${key}`));
        }
      }
    }
    expect(found).toEqual([]);
    // the scan finds one (it can fail)
    expect(
      secretValues({ services: { grafana: { environment: { GF_SECURITY_ADMIN_PASSWORD: 'admin' } } } }, 'x'),
    ).toEqual(['x: services.grafana.environment.GF_SECURITY_ADMIN_PASSWORD']);
  });
});

describe('deploy/k8s', () => {
  it('has cubestream (Deployment, Service, ConfigMap, the Secrets of the HTTP tokens and the MQTT password), mosquitto and nats', async () => {
    const objects = await k8sObjects();
    expect([...objects.keys()].sort()).toEqual([
      'ConfigMap/cubestream-config',
      'ConfigMap/mosquitto-config',
      'Deployment/cubestream',
      'Deployment/cubestream-workers',
      'Deployment/mosquitto',
      'Secret/cubestream-http-tokens',
      'Secret/cubestream-mqtt',
      'Service/cubestream',
      'Service/mosquitto',
      'Service/nats',
      'Service/nats-headless',
      'StatefulSet/nats',
    ]);
  });

  it('the ConfigMap run config reaches its brokers at the Services of deploy/k8s, by name and port', async () => {
    const objects = await k8sObjects();
    const config = asRecord(
      parse(String(asRecord(get(objects, 'ConfigMap/cubestream-config').data, 'data')['production.yaml'])),
      'ConfigMap run config',
    );
    const urls = brokerUrls(config);
    expect(urls.length).toBeGreaterThanOrEqual(3);
    for (const url of urls) {
      const { host, port } = hostPort(url);
      const spec = asRecord(get(objects, `Service/${host}`).spec, `Service/${host}`);
      expect(
        asArray(spec.ports, 'ports').map((p) => asRecord(p, 'port').port),
        url,
      ).toContain(port);
    }
  });

  it('nats: a JetStream StatefulSet whose store is the claim of its volumeClaimTemplates, selected by its Services', async () => {
    const objects = await k8sObjects();
    const spec = asRecord(get(objects, 'StatefulSet/nats').spec, 'StatefulSet spec');
    const template = asRecord(spec.template, 'template');
    const podLabels = asRecord(asRecord(template.metadata, 'metadata').labels, 'labels');
    const selects = (selector: unknown, what: string): void => {
      const entries = Object.entries(asRecord(selector, what));
      expect(entries.length, what).toBeGreaterThan(0);
      for (const [key, value] of entries) expect(podLabels[key], `${what}: ${key}`).toBe(value);
    };
    selects(asRecord(spec.selector, 'selector').matchLabels, 'StatefulSet selector');
    const headless = asRecord(get(objects, `Service/${String(spec.serviceName)}`).spec, 'governing Service');
    expect(headless.clusterIP).toBe('None');
    selects(headless.selector, 'headless Service');
    const client = asRecord(get(objects, 'Service/nats').spec, 'Service/nats');
    selects(client.selector, 'Service nats');

    const pod = asRecord(template.spec, 'pod');
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    expect(String(container?.image)).toMatch(/^nats:2\b/);
    const args = asArray(container?.args, 'args').map(String);
    expect(args).toContain('--jetstream');
    const storeDir = flag(args, '--store_dir');
    const mount = asArray(container?.volumeMounts, 'volumeMounts')
      .map((m) => asRecord(m, 'mount'))
      .find((m) => m.mountPath === storeDir);
    expect(mount, `a volume at the store dir ${String(storeDir)}`).toBeDefined();
    const claims = asArray(spec.volumeClaimTemplates, 'volumeClaimTemplates').map((c) =>
      asRecord(c, 'claim'),
    );
    const claim = claims.find((c) => asRecord(c.metadata, 'metadata').name === mount?.name);
    const storage = asRecord(
      asRecord(asRecord(claim?.spec, 'claim spec').resources, 'r').requests,
      'requests',
    );
    expect(String(storage.storage)).toMatch(/^\d+Gi$/);
    // the client and monitoring ports, probes on the monitoring port
    const ports = asArray(container?.ports, 'ports').map((p) => asRecord(p, 'port'));
    expect(ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['client', 4222],
      ['monitor', 8222],
    ]);
    expect(flag(args, '--http_port')).toBe('8222');
    for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
      const httpGet = asRecord(asRecord(container?.[probe], probe).httpGet, `${probe}.httpGet`);
      expect(String(httpGet.path), probe).toMatch(/^\/healthz/);
      expect(httpGet.port, probe).toBe('monitor');
    }
    expect(asRecord(pod.securityContext, 'securityContext').runAsNonRoot).toBe(true);
    expect(asArray(client.ports, 'ports').map((p) => asRecord(p, 'port').port)).toEqual([4222, 8222]);
  });

  it('mounts the MQTT password Secret (committed empty) at the passwordFile of the run config', async () => {
    const objects = await k8sObjects();
    const config = asRecord(
      parse(String(asRecord(get(objects, 'ConfigMap/cubestream-config').data, 'data')['production.yaml'])),
      'ConfigMap run config',
    );
    const files = new Set([
      asRecord(config.source, 'source').passwordFile,
      asRecord(asRecord(config.sinks, 'sinks').mqtt, 'sinks.mqtt').passwordFile,
    ]);
    expect([...files]).toEqual([MQTT_PASSWORD_FILE]);
    const secret = get(objects, 'Secret/cubestream-mqtt');
    expect(asRecord(secret.stringData, 'stringData')).toEqual({ 'mqtt-password': '' });
    const pod = asRecord(
      asRecord(asRecord(get(objects, 'Deployment/cubestream').spec, 'spec').template, 'template').spec,
      'pod',
    );
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    const mount = asArray(container?.volumeMounts, 'volumeMounts')
      .map((m) => asRecord(m, 'mount'))
      .find((m) => m.mountPath === MQTT_PASSWORD_FILE);
    expect(mount?.readOnly).toBe(true);
    const volume = asArray(pod.volumes, 'volumes')
      .map((v) => asRecord(v, 'volume'))
      .find((v) => v.name === mount?.name);
    const source = asRecord(volume?.secret, 'mqtt-password volume secret');
    expect(source.secretName).toBe('cubestream-mqtt');
    const items = asArray(source.items, 'items').map((i) => asRecord(i, 'item'));
    expect(items.find((i) => i.path === mount?.subPath)?.key).toBe('mqtt-password');
  });

  it('runs mosquitto with copies of deploy/mosquitto and its password file where mosquitto.conf reads it', async () => {
    const objects = await k8sObjects();
    const data = asRecord(get(objects, 'ConfigMap/mosquitto-config').data, 'mosquitto-config data');
    for (const file of ['mosquitto.conf', 'acl', 'acl-healthcheck']) {
      expect(data[file], file).toBe(await readFile(deployPath('mosquitto', file), 'utf8'));
    }
    const conf = await mosquittoConf();
    const pod = asRecord(
      asRecord(asRecord(get(objects, 'Deployment/mosquitto').spec, 'spec').template, 'template').spec,
      'pod',
    );
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    const mounts = asArray(container?.volumeMounts, 'volumeMounts').map((m) => asRecord(m, 'mount'));
    const volumes = asArray(pod.volumes, 'volumes').map((v) => asRecord(v, 'volume'));
    const volumeOf = (mountPath: string | undefined): Record<string, unknown> | undefined => {
      const mount = mounts.find((m) => m.mountPath === mountPath);
      return volumes.find((v) => v.name === mount?.name);
    };
    for (const key of ['acl_file']) {
      const file = mosquittoSetting(conf, key) ?? '';
      expect(asRecord(volumeOf(path.dirname(file))?.configMap, key).name).toBe('mosquitto-config');
    }
    const passwd = volumeOf(mosquittoSetting(conf, 'password_file'));
    expect(asRecord(passwd?.secret, 'passwd secret').secretName).toBe('mosquitto-passwd');
    expect(volumeOf(mosquittoSetting(conf, 'persistence_location')?.replace(/\/$/, ''))?.emptyDir).toEqual(
      {},
    );
    expect(asRecord(pod.securityContext, 'securityContext').runAsNonRoot).toBe(true);
    const probe = JSON.stringify(container?.readinessProbe);
    expect(probe).toContain('"1884"');
    const service = asRecord(get(objects, 'Service/mosquitto').spec, 'spec');
    expect(asArray(service.ports, 'ports').map((p) => asRecord(p, 'port').port)).toEqual([1883]);
  });

  it('mounts the Secret at the tokenFile paths of the run config, and commits no token value', async () => {
    const objects = await k8sObjects();
    const config = asRecord(
      parse(String(asRecord(get(objects, 'ConfigMap/cubestream-config').data, 'data')['production.yaml'])),
      'ConfigMap run config',
    );
    const tokenFiles = [
      tokenFileOf(asRecord(config.metrics, 'metrics'), 'metrics'),
      tokenFileOf(asRecord(config.viewer, 'viewer'), 'viewer'),
    ];
    const secret = get(objects, 'Secret/cubestream-http-tokens');
    const values = {
      ...asRecord(secret.stringData ?? {}, 'stringData'),
      ...asRecord(secret.data ?? {}, 'data'),
    };
    expect(Object.keys(values).sort()).toEqual(['metrics-token', 'viewer-token']);
    for (const [key, value] of Object.entries(values)) expect(value, key).toBe('');

    const pod = asRecord(
      asRecord(asRecord(get(objects, 'Deployment/cubestream').spec, 'spec').template, 'template').spec,
      'pod',
    );
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    const mounts = asArray(container?.volumeMounts, 'volumeMounts').map((m) => asRecord(m, 'mount'));
    const volumes = asArray(pod.volumes, 'volumes').map((v) => asRecord(v, 'volume'));
    for (const file of tokenFiles) {
      const mount = mounts.find((m) => m.mountPath === file);
      expect(mount, file).toBeDefined();
      expect(mount?.readOnly).toBe(true);
      const volume = volumes.find((v) => v.name === mount?.name);
      const source = asRecord(volume?.secret, `${file} volume secret`);
      expect(source.secretName).toBe('cubestream-http-tokens');
      const items = asArray(source.items, 'items').map((i) => asRecord(i, 'item'));
      expect(items.find((i) => i.path === mount?.subPath)?.key).toBe(mount?.subPath);
    }
  });

  it('runs N leased workers: production.yaml as a leased JetStream consumer with checkpoints, each pod its own worker id', async () => {
    const objects = await k8sObjects();
    const workers = get(objects, 'Deployment/cubestream-workers');
    const single = get(objects, 'Deployment/cubestream');
    const spec = asRecord(workers.spec, 'spec');
    expect(Number(spec.replicas)).toBeGreaterThanOrEqual(2);
    // Selectors that do not overlap: neither Deployment adopts the other's pods.
    const labelsOf = (d: Record<string, unknown>) =>
      asRecord(asRecord(asRecord(d.spec, 'spec').template, 't').metadata, 'm').labels as Record<
        string,
        string
      >;
    const selectorOf = (d: Record<string, unknown>) =>
      asRecord(asRecord(d.spec, 'spec').selector, 'selector').matchLabels as Record<string, string>;
    const matches = (selector: Record<string, string>, labels: Record<string, string>) =>
      Object.entries(selector).every(([k, v]) => labels[k] === v);
    expect(matches(selectorOf(workers), labelsOf(workers))).toBe(true);
    expect(matches(selectorOf(workers), labelsOf(single))).toBe(false);
    expect(matches(selectorOf(single), labelsOf(workers))).toBe(false);

    const pod = asRecord(asRecord(spec.template, 'template').spec, 'pod spec');
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    if (container === undefined) throw new Error('no container');
    const args = asArray(container.args, 'args').map(String);
    expect(args.slice(0, RUN_COMMAND.length)).toEqual(RUN_COMMAND);
    // Kubernetes expands $(POD_NAME) in args from the container's env.
    const env = asArray(container.env, 'env').map((e) => asRecord(e, 'env'));
    const podName = env.find((e) => e.name === 'POD_NAME');
    expect(asRecord(asRecord(podName?.valueFrom, 'valueFrom').fieldRef, 'fieldRef').fieldPath).toBe(
      'metadata.name',
    );
    const overrides = setValues(args).map((arg) =>
      arg.replace('$(POD_NAME)', 'cubestream-workers-6d9c7-x2k4p'),
    );
    const configMap = asRecord(get(objects, 'ConfigMap/cubestream-config').data, 'data');
    const dir = await mkdtemp(path.join(tmpdir(), 'cubestream-k8s-'));
    try {
      const file = path.join(dir, 'production.yaml');
      await writeFile(file, String(configMap['production.yaml']));
      const source = (await loadRunConfig(file, overrides)).source;
      if (source.kind !== 'jetstream' || source.leases === undefined)
        throw new Error('the workers are not leased jetstream workers');
      expect(source.leases.workerId).toBe('cubestream-workers-6d9c7-x2k4p');
      expect(source.leases.checkpoints.enabled).toBe(true);
      expect(source.cameraIds.length).toBeGreaterThanOrEqual(2);
      expect(hostPort(String(Array.isArray(source.servers) ? source.servers[0] : source.servers)).host).toBe(
        'nats',
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    // The same mounts (config, tokens, MQTT password) as the single instance.
    const singleContainer = asRecord(
      asArray(asRecord(asRecord(asRecord(single.spec, 's').template, 't').spec, 'p').containers, 'c')[0],
      'container',
    );
    expect(container.volumeMounts).toEqual(singleContainer.volumeMounts);
    expect(pod.volumes).toEqual(
      asRecord(asRecord(asRecord(single.spec, 's').template, 't').spec, 'p').volumes,
    );
  });

  it('Deployment: probes on the metrics port, resources, non-root, config from the ConfigMap', async () => {
    const objects = await k8sObjects();
    const spec = asRecord(get(objects, 'Deployment/cubestream').spec, 'spec');
    const pod = asRecord(asRecord(spec.template, 'template').spec, 'pod spec');
    const [container] = asArray(pod.containers, 'containers').map((c) => asRecord(c, 'container'));
    if (container === undefined) throw new Error('no container');
    expect(container.args).toEqual(RUN_COMMAND);
    const ports = asArray(container.ports, 'ports').map((p) => asRecord(p, 'port'));
    const portNamed = (name: unknown): unknown => ports.find((p) => p.name === name)?.containerPort;
    expect(portNamed('metrics')).toBe(9464);
    expect(portNamed('viewer')).toBe(8080);
    const probe = (key: string): { path: unknown; port: unknown } => {
      const httpGet = asRecord(asRecord(container[key], key).httpGet, `${key}.httpGet`);
      return { path: httpGet.path, port: portNamed(httpGet.port) ?? httpGet.port };
    };
    expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: 9464 });
    expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: 9464 });
    expect(probe('startupProbe')).toEqual({ path: '/healthz', port: 9464 });

    const resources = asRecord(container.resources, 'resources');
    for (const kind of ['requests', 'limits']) {
      const r = asRecord(resources[kind], kind);
      expect(r.cpu, kind).toBeDefined();
      expect(r.memory, kind).toBeDefined();
    }
    const podSecurity = asRecord(pod.securityContext, 'pod securityContext');
    expect(podSecurity.runAsNonRoot).toBe(true);
    expect(Number(podSecurity.runAsUser)).toBeGreaterThan(0);
    const dockerfile = await readFile(deployPath('Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`USER ${String(podSecurity.runAsUser)}:${String(podSecurity.runAsGroup)}`);
    const security = asRecord(container.securityContext, 'container securityContext');
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(security.readOnlyRootFilesystem).toBe(true);
    expect(asRecord(security.capabilities, 'capabilities').drop).toEqual(['ALL']);

    const mounts = asArray(container.volumeMounts, 'volumeMounts').map((m) => asRecord(m, 'mount'));
    const configMount = mounts.find((m) => m.mountPath === RUN_COMMAND[2]);
    const volumes = asArray(pod.volumes, 'volumes').map((v) => asRecord(v, 'volume'));
    const configVolume = volumes.find((v) => v.name === configMount?.name);
    const configMapName = asRecord(configVolume?.configMap, 'config volume configMap').name;
    const configMap = get(objects, `ConfigMap/${String(configMapName)}`);
    const data = asRecord(configMap.data, 'ConfigMap data');
    expect(Object.keys(data)).toContain(configMount?.subPath);
    const body = parse(String(data[String(configMount?.subPath)]));
    expect(typeof body).toBe('object');
    for (const m of mounts)
      expect(
        volumes.map((v) => v.name),
        String(m.name),
      ).toContain(m.name);

    const annotations = asRecord(
      asRecord(asRecord(spec.template, 't').metadata, 'm').annotations,
      'annotations',
    );
    expect(annotations['prometheus.io/scrape']).toBe('true');
    expect(annotations['prometheus.io/port']).toBe('9464');
  });

  it('Service selects the pods and exposes the metrics and viewer ports by name', async () => {
    const objects = await k8sObjects();
    const deployment = asRecord(get(objects, 'Deployment/cubestream').spec, 'spec');
    const podLabels = asRecord(asRecord(asRecord(deployment.template, 't').metadata, 'm').labels, 'labels');
    const matchLabels = asRecord(asRecord(deployment.selector, 'selector').matchLabels, 'matchLabels');
    expect(Object.keys(matchLabels).length).toBeGreaterThan(0);
    for (const [key, value] of Object.entries(matchLabels)) expect(podLabels[key], key).toBe(value);
    const svc = asRecord(get(objects, 'Service/cubestream').spec, 'service spec');
    for (const [key, value] of Object.entries(asRecord(svc.selector, 'selector'))) {
      expect(podLabels[key], key).toBe(value);
    }
    const ports = asArray(svc.ports, 'ports').map((p) => asRecord(p, 'port'));
    expect(ports.map((p) => [p.name, p.port, p.targetPort])).toEqual([
      ['metrics', 9464, 'metrics'],
      ['viewer', 8080, 'viewer'],
    ]);
  });

  it.skipIf(!existsSync(PRODUCTION_CONFIG))(
    'ConfigMap carries the same run config as configs/run/production.yaml',
    async () => {
      const objects = await k8sObjects();
      const data = asRecord(get(objects, 'ConfigMap/cubestream-config').data, 'ConfigMap data');
      const inConfigMap: unknown = parse(String(data['production.yaml']));
      expect(inConfigMap).toEqual(parse(await readFile(PRODUCTION_CONFIG, 'utf8')));
    },
  );
});
