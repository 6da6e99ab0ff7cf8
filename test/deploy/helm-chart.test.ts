import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPair, isScalar, isSeq, isMap as isYamlMap, parse, parseDocument, stringify } from 'yaml';
import { loadRunConfig } from '../../src/app/service/run-config.js';
import { asArray, asRecord, deployPath, readYamlDocuments, repoRoot } from './deploy-files.js';
import {
  HelmRenderError,
  mergeValues,
  type RenderedChart,
  type RenderOptions,
  renderChart,
} from './render-helm.js';

const run = promisify(execFile);
const CHART = deployPath('helm', 'cubestream');
const PRODUCTION_CONFIG = path.join(repoRoot, 'configs', 'run', 'production.yaml');
const WORKER_CONFIG = path.join(repoRoot, 'configs', 'run', 'jetstream-worker.yaml');
/** Tokens long enough for the service (at least 16 characters); only ever rendered, never deployed. */
const SECRETS = { metricsToken: 'm'.repeat(32), viewerToken: 'v'.repeat(32), mqttPassword: 'p'.repeat(20) };

/** The value sets the tests render; together they read every value of values.yaml. */
const VALUE_SETS: Readonly<Record<string, Record<string, unknown>>> = {
  defaults: {},
  everything: {
    fullnameOverride: 'line1',
    image: { repository: 'registry.example.com/cubestream', tag: '9.9.9', pullPolicy: 'Always' },
    imagePullSecrets: [{ name: 'regcred' }],
    replicaCount: 2,
    config: 'source: { kind: simulated }\nmodel: { path: models/demo }\nsinks: {}\n',
    extraArgs: ['--set', 'log.level=debug'],
    extraEnv: [{ name: 'MQTT_URL', value: 'mqtt://plc:1883' }],
    secrets: SECRETS,
    service: { type: 'NodePort', annotations: { 'example.com/owner': 'line1' } },
    prometheusAnnotations: false,
    serviceMonitor: { enabled: true, interval: '30s', scrapeTimeout: '20s', labels: { release: 'kps' } },
    podDisruptionBudget: { enabled: true, maxUnavailable: 1 },
    model: {
      bundle: {
        enabled: true,
        subPath: 'lentils',
        size: '2Gi',
        storageClassName: 'fast',
        accessMode: 'ReadOnlyMany',
      },
    },
    podAnnotations: { 'example.com/a': 'b' },
    podLabels: { line: 'line1' },
    nodeSelector: { 'example.com/camera-network': 'true' },
    tolerations: [{ key: 'camera', operator: 'Exists', effect: 'NoSchedule' }],
    affinity: { nodeAffinity: {} },
    extraVolumes: [{ name: 'ca', configMap: { name: 'plant-ca' } }],
    extraVolumeMounts: [{ name: 'ca', mountPath: '/etc/cubestream/ca', readOnly: true }],
    nats: { enabled: true, storageClassName: 'fast', storageSize: '5Gi' },
  },
  modelImage: {
    model: {
      bundle: { enabled: true, image: 'registry.example.com/models/lentils:1', imagePullPolicy: 'Always' },
    },
  },
  modelClaim: { model: { bundle: { enabled: true, existingClaim: 'lentils-bundle' } } },
  existingSecret: { secrets: { existingSecret: 'plant-secrets' }, serviceMonitor: { enabled: true } },
  noPdb: { podDisruptionBudget: { enabled: false } },
  // The chart README's leased workers.
  leasedWorkers: {
    config: readFileSync(WORKER_CONFIG, 'utf8'),
    replicaCount: 3,
    updateStrategy: { type: 'RollingUpdate' },
    extraArgs: ['--set', 'source.servers=nats://nats:4222', '--set', 'sinks.nats.servers=nats://nats:4222'],
    nats: { enabled: true },
  },
};

async function render(
  values: Record<string, unknown> = {},
  options: RenderOptions = {},
): Promise<RenderedChart> {
  return renderChart(CHART, { ...options, values });
}

type K8sObject = Record<string, unknown>;

function objectsOf(chart: RenderedChart): Map<string, K8sObject> {
  const out = new Map<string, K8sObject>();
  for (const { object } of chart.objects) {
    const key = `${String(object.kind)}/${String(asRecord(object.metadata, 'metadata').name)}`;
    expect(out.has(key), `${key} rendered twice`).toBe(false);
    out.set(key, object);
  }
  return out;
}

/** The one object of a kind that belongs to cubestream itself (not to the optional NATS server). */
function only(chart: RenderedChart, kind: string): K8sObject {
  const found = chart.objects
    .map((o) => o.object)
    .filter((o) => o.kind === kind)
    .filter(
      (o) => asRecord(asRecord(o.metadata, 'm').labels, 'labels')['app.kubernetes.io/name'] === 'cubestream',
    );
  expect(
    found.map((o) => asRecord(o.metadata, 'metadata').name),
    kind,
  ).toHaveLength(1);
  return found[0] as K8sObject;
}

function kinds(chart: RenderedChart): string[] {
  return chart.objects.map((o) => String(o.object.kind)).sort();
}

/** The pod template of the cubestream Deployment: its labels, spec, container and volumes. */
function pod(chart: RenderedChart) {
  const spec = asRecord(only(chart, 'Deployment').spec, 'Deployment spec');
  const template = asRecord(spec.template, 'template');
  const podSpec = asRecord(template.spec, 'pod spec');
  const [container] = asArray(podSpec.containers, 'containers').map((c) => asRecord(c, 'container'));
  if (container === undefined) throw new Error('no container');
  const mounts = asArray(container.volumeMounts, 'volumeMounts').map((m) => asRecord(m, 'mount'));
  const volumes = asArray(podSpec.volumes, 'volumes').map((v) => asRecord(v, 'volume'));
  const labels = asRecord(asRecord(template.metadata, 'metadata').labels, 'pod labels');
  const annotations = asRecord(asRecord(template.metadata, 'metadata').annotations ?? {}, 'annotations');
  const args = asArray(container.args, 'args').map(String);
  const volumeAt = (mountPath: string): { mount: K8sObject; volume: K8sObject } => {
    const mount = mounts.find((m) => m.mountPath === mountPath);
    if (mount === undefined) throw new Error(`nothing mounted at ${mountPath}`);
    const volume = volumes.find((v) => v.name === mount.name);
    if (volume === undefined) throw new Error(`no volume ${String(mount.name)}`);
    return { mount, volume };
  };
  return { spec, podSpec, container, mounts, volumes, labels, annotations, args, volumeAt };
}

/** Every label of `selector` is on `labels` with the same value (and there is at least one). */
function expectSelects(selector: unknown, labels: unknown, what: string): void {
  const wanted = Object.entries(asRecord(selector, `${what} selector`));
  expect(wanted.length, what).toBeGreaterThan(0);
  const have = asRecord(labels, `${what} labels`);
  for (const [key, value] of wanted) expect(have[key], `${what}: ${key}`).toBe(value);
}

/** The run config the chart's ConfigMap carries, parsed, and the path the container reads it at. */
function runConfigOf(chart: RenderedChart): { text: string; config: K8sObject; file: string } {
  const { args, volumeAt } = pod(chart);
  const file = args[args.indexOf('--config') + 1] ?? '';
  const { mount, volume } = volumeAt(path.posix.dirname(file));
  expect(mount.readOnly).toBe(true);
  const configMapName = asRecord(volume.configMap, 'config volume').name;
  const configMap = objectsOf(chart).get(`ConfigMap/${String(configMapName)}`);
  const text = String(asRecord(configMap?.data, 'ConfigMap data')[path.posix.basename(file)]);
  return { text, config: asRecord(parse(text), 'run config'), file };
}

/** `host:port` of a broker URL (`mqtt://mosquitto:1883`, `nats://nats:4222`). */
function hostPort(url: unknown): { host: string; port: number } {
  const parsed = new URL(String(url));
  return { host: parsed.hostname, port: Number(parsed.port) };
}

describe('deploy/helm/cubestream (rendered by test/deploy/render-helm.ts)', () => {
  it('Chart.yaml: apiVersion v2, the name cubestream, appVersion = the version of package.json', async () => {
    const chart = asRecord(parse(await readFile(path.join(CHART, 'Chart.yaml'), 'utf8')), 'Chart.yaml');
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      version: string;
    };
    expect(chart.apiVersion).toBe('v2');
    expect(chart.name).toBe('cubestream');
    expect(chart.type).toBe('application');
    expect(chart.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(chart.appVersion).toBe(pkg.version);
    const rendered = await render();
    expect(pod(rendered).container.image).toBe(`cubestream:${pkg.version}`);
  });

  it('defaults: Deployment, Service, ConfigMap, Secret and PodDisruptionBudget; no ServiceMonitor, PVC or NATS', async () => {
    const chart = await render();
    expect(kinds(chart)).toEqual(['ConfigMap', 'Deployment', 'PodDisruptionBudget', 'Secret', 'Service']);
    expect([...objectsOf(chart).keys()].sort()).toEqual([
      'ConfigMap/cubestream-config',
      'Deployment/cubestream',
      'PodDisruptionBudget/cubestream',
      'Secret/cubestream',
      'Service/cubestream',
    ]);
    for (const { object } of chart.objects) {
      expect(typeof object.apiVersion).toBe('string');
      const labels = asRecord(asRecord(object.metadata, 'metadata').labels, 'labels');
      expect(labels['app.kubernetes.io/instance']).toBe('cubestream');
      expect(labels['app.kubernetes.io/managed-by']).toBe('Helm');
    }
    // another release name names every object after it
    const other = await render({}, { releaseName: 'line2', namespace: 'plant' });
    expect([...objectsOf(other).keys()]).toContain('Deployment/line2');
    expect(other.notes).toContain('kubectl -n plant rollout status deployment/line2');
  });

  it('the ConfigMap carries the run config of configs/run/production.yaml, and the container runs it', async () => {
    const production = await readFile(PRODUCTION_CONFIG, 'utf8');
    const copy = await readFile(path.join(CHART, 'files', 'production.yaml'), 'utf8');
    expect(
      parse(copy),
      'deploy/helm/cubestream/files/production.yaml is a copy of configs/run/production.yaml: cp it again',
    ).toEqual(parse(production));
    const chart = await render();
    const { text, config, file } = runConfigOf(chart);
    expect(text, 'the ConfigMap holds the copy byte for byte').toBe(copy);
    expect(config).toEqual(parse(production));
    expect(pod(chart).args).toEqual(['run', '--config', file]);
  });

  it('leased workers (the README command): N replicas rolling one at a time on the jetstream-worker config, which loads as a leased source', async () => {
    const spec = (c: RenderedChart): K8sObject => asRecord(only(c, 'Deployment').spec, 'Deployment spec');
    expect(spec(await render()).strategy).toEqual({ type: 'Recreate' });
    const chart = await render(VALUE_SETS.leasedWorkers);
    expect(spec(chart).replicas).toBe(3);
    expect(spec(chart).strategy).toEqual({ type: 'RollingUpdate' });
    const { text, file } = runConfigOf(chart);
    const { args } = pod(chart);
    expect(args.slice(0, 3)).toEqual(['run', '--config', file]);
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-chart-'));
    try {
      const copy = path.join(dir, 'run.yaml');
      await writeFile(copy, text);
      const sets = args.slice(3).filter((_, i) => i % 2 === 1);
      const config = await loadRunConfig(copy, sets);
      expect(config.source).toMatchObject({
        kind: 'jetstream',
        servers: 'nats://nats:4222',
        leases: { bucket: 'CUBESTREAM_LEASES', checkpoints: { bucket: 'CUBESTREAM_STATE' } },
      });
      expect(config.sinks.nats).toMatchObject({ servers: 'nats://nats:4222', mode: 'jetstream' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a config of its own (--set-file config=...) replaces it, and its checksum rolls the pods', async () => {
    const base = await render();
    const own = 'source: { kind: simulated }\nmodel: { path: models/demo }\nsinks: {}\n';
    const chart = await render({ config: own });
    expect(runConfigOf(chart).text).toBe(own);
    const checksum = (c: RenderedChart): unknown => pod(c).annotations['checksum/config'];
    expect(checksum(base)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(chart)).toMatch(/^[0-9a-f]{64}$/);
    expect(checksum(chart)).not.toBe(checksum(base));
  });

  it('probes: startup and liveness GET /healthz, readiness GET /readyz, on the config metrics.port; viewer on viewer.port', async () => {
    const chart = await render();
    const { container } = pod(chart);
    const { config } = runConfigOf(chart);
    const metricsPort = asRecord(config.metrics, 'metrics').port;
    const viewerPort = asRecord(config.viewer, 'viewer').port;
    const ports = asArray(container.ports, 'ports').map((p) => asRecord(p, 'port'));
    const portNamed = (name: unknown): unknown => ports.find((p) => p.name === name)?.containerPort;
    expect(portNamed('metrics')).toBe(metricsPort);
    expect(portNamed('viewer')).toBe(viewerPort);
    const probe = (key: string): { path: unknown; port: unknown } => {
      const httpGet = asRecord(asRecord(container[key], key).httpGet, `${key}.httpGet`);
      return { path: httpGet.path, port: portNamed(httpGet.port) ?? httpGet.port };
    };
    expect(probe('startupProbe')).toEqual({ path: '/healthz', port: metricsPort });
    expect(probe('livenessProbe')).toEqual({ path: '/healthz', port: metricsPort });
    expect(probe('readinessProbe')).toEqual({ path: '/readyz', port: metricsPort });
    expect(asRecord(container.livenessProbe, 'liveness').periodSeconds).toBe(10);
    const resources = asRecord(container.resources, 'resources');
    for (const kind of ['requests', 'limits']) {
      expect(asRecord(resources[kind], kind).cpu, kind).toBeDefined();
      expect(asRecord(resources[kind], kind).memory, kind).toBeDefined();
    }
  });

  it('pods run as the image user, non-root, read-only, no privilege escalation; /tmp and /app/runs writable', async () => {
    const chart = await render();
    const { podSpec, container, volumeAt } = pod(chart);
    const podSecurity = asRecord(podSpec.securityContext, 'pod securityContext');
    expect(podSecurity.runAsNonRoot).toBe(true);
    const dockerfile = await readFile(deployPath('Dockerfile'), 'utf8');
    expect(dockerfile).toContain(`USER ${String(podSecurity.runAsUser)}:${String(podSecurity.runAsGroup)}`);
    const security = asRecord(container.securityContext, 'securityContext');
    expect(security.readOnlyRootFilesystem).toBe(true);
    expect(security.allowPrivilegeEscalation).toBe(false);
    expect(asRecord(security.capabilities, 'capabilities').drop).toEqual(['ALL']);
    expect(podSpec.automountServiceAccountToken).toBe(false);
    for (const dir of ['/tmp', '/app/runs']) expect(volumeAt(dir).volume.emptyDir, dir).toBeDefined();
    expect(asRecord(only(chart, 'Deployment').spec, 'spec').strategy).toEqual({ type: 'Recreate' });
  });

  it('the Deployment, Service and PodDisruptionBudget select the pods; the Service maps the ports by name', async () => {
    for (const values of [{}, VALUE_SETS.everything ?? {}]) {
      const chart = await render(values);
      const { spec, labels, container } = pod(chart);
      expectSelects(asRecord(spec.selector, 'selector').matchLabels, labels, 'Deployment');
      const service = asRecord(only(chart, 'Service').spec, 'Service spec');
      expectSelects(service.selector, labels, 'Service');
      const containerPorts = new Set(asArray(container.ports, 'ports').map((p) => asRecord(p, 'port').name));
      const servicePorts = asArray(service.ports, 'ports').map((p) => asRecord(p, 'port'));
      expect(servicePorts.map((p) => p.name)).toEqual(['metrics', 'viewer']);
      for (const port of servicePorts)
        expect(containerPorts.has(port.targetPort), String(port.name)).toBe(true);
      const pdb = asRecord(only(chart, 'PodDisruptionBudget').spec, 'PDB spec');
      expectSelects(asRecord(pdb.selector, 'selector').matchLabels, labels, 'PodDisruptionBudget');
    }
  });

  it('PodDisruptionBudget: minAvailable 1 by default, maxUnavailable when set, none when disabled', async () => {
    const spec = (c: RenderedChart): K8sObject => asRecord(only(c, 'PodDisruptionBudget').spec, 'spec');
    expect(spec(await render())).toMatchObject({ minAvailable: 1 });
    expect(spec(await render())).not.toHaveProperty('maxUnavailable');
    const max = spec(await render({ podDisruptionBudget: { maxUnavailable: '50%' } }));
    expect(max).toMatchObject({ maxUnavailable: '50%' });
    expect(max).not.toHaveProperty('minAvailable');
    expect(kinds(await render({ podDisruptionBudget: { enabled: false } }))).not.toContain(
      'PodDisruptionBudget',
    );
  });

  it('the Secret is mounted at the run config tokenFile and passwordFile paths, one key each', async () => {
    const chart = await render({ secrets: SECRETS });
    const secret = only(chart, 'Secret');
    const secretName = asRecord(secret.metadata, 'metadata').name;
    expect(asRecord(secret.stringData, 'stringData')).toEqual({
      'metrics-token': SECRETS.metricsToken,
      'viewer-token': SECRETS.viewerToken,
      'mqtt-password': SECRETS.mqttPassword,
    });
    const { config } = runConfigOf(chart);
    const sinks = asRecord(config.sinks, 'sinks');
    const files = {
      'metrics-token': asRecord(asRecord(config.metrics, 'metrics').auth, 'metrics.auth').tokenFile,
      'viewer-token': asRecord(asRecord(config.viewer, 'viewer').auth, 'viewer.auth').tokenFile,
      'mqtt-password': asRecord(config.source, 'source').passwordFile,
    };
    expect(asRecord(sinks.mqtt, 'sinks.mqtt').passwordFile).toBe(files['mqtt-password']);
    const { volumeAt, container } = pod(chart);
    for (const [key, file] of Object.entries(files)) {
      const { mount, volume } = volumeAt(String(file));
      expect(mount.readOnly, key).toBe(true);
      const source = asRecord(volume.secret, `${key} volume`);
      expect(source.secretName, key).toBe(secretName);
      const item = asArray(source.items, 'items')
        .map((i) => asRecord(i, 'item'))
        .find((i) => i.path === mount.subPath);
      expect(item?.key, key).toBe(key);
    }
    expect(JSON.stringify(container)).not.toContain(SECRETS.metricsToken);
    // the defaults commit no secret: the values are empty, and NOTES.txt says what to set
    const defaults = await render();
    expect(asRecord(only(defaults, 'Secret').stringData, 'stringData')).toEqual({
      'metrics-token': '',
      'viewer-token': '',
      'mqtt-password': '',
    });
    expect(defaults.notes).toContain('WARNING');
    expect(chart.notes).not.toContain('WARNING');
  });

  it('secrets.existingSecret: no Secret rendered, the pod and the ServiceMonitor use the existing one', async () => {
    const chart = await render(VALUE_SETS.existingSecret);
    expect(kinds(chart)).not.toContain('Secret');
    const { volumeAt } = pod(chart);
    expect(asRecord(volumeAt('/run/secrets/metrics-token').volume.secret, 'secret').secretName).toBe(
      'plant-secrets',
    );
    const endpoint = asRecord(
      asArray(asRecord(only(chart, 'ServiceMonitor').spec, 'spec').endpoints, 'e')[0],
      'e',
    );
    expect(asRecord(asRecord(endpoint.authorization, 'authorization').credentials, 'credentials')).toEqual({
      name: 'plant-secrets',
      key: 'metrics-token',
    });
    expect(chart.notes).not.toContain('WARNING');
  });

  it('ServiceMonitor: off by default; on, it selects the Service, scrapes its metrics port with the token', async () => {
    expect(kinds(await render())).not.toContain('ServiceMonitor');
    const chart = await render({ serviceMonitor: { enabled: true, labels: { release: 'kps' } } });
    const monitor = only(chart, 'ServiceMonitor');
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(asRecord(asRecord(monitor.metadata, 'metadata').labels, 'labels').release).toBe('kps');
    const spec = asRecord(monitor.spec, 'spec');
    const service = only(chart, 'Service');
    expectSelects(
      asRecord(spec.selector, 'selector').matchLabels,
      asRecord(service.metadata, 'm').labels,
      'SM',
    );
    const [endpoint] = asArray(spec.endpoints, 'endpoints').map((e) => asRecord(e, 'endpoint'));
    const servicePorts = asArray(asRecord(service.spec, 'spec').ports, 'ports').map(
      (p) => asRecord(p, 'p').name,
    );
    expect(servicePorts).toContain(endpoint?.port);
    expect(endpoint?.path).toBe('/metrics');
    const credentials = asRecord(
      asRecord(endpoint?.authorization, 'authorization').credentials,
      'credentials',
    );
    const secret = only(chart, 'Secret');
    expect(credentials.name).toBe(asRecord(secret.metadata, 'metadata').name);
    expect(Object.keys(asRecord(secret.stringData, 'stringData'))).toContain(credentials.key);
    // prometheus.io annotations by default; off when the ServiceMonitor scrapes instead
    expect(pod(await render()).annotations['prometheus.io/port']).toBe('9464');
    expect(pod(await render({ prometheusAnnotations: false })).annotations).not.toHaveProperty(
      'prometheus.io/scrape',
    );
  });

  it('model bundle: a created PVC, an existing claim or an image volume, mounted read-only at model.path', async () => {
    expect(kinds(await render())).not.toContain('PersistentVolumeClaim');
    expect(pod(await render()).args).not.toContain('--set');
    const cases = [
      { values: { model: { bundle: { enabled: true } } }, claim: 'cubestream-model', pvc: true },
      { values: VALUE_SETS.modelClaim ?? {}, claim: 'lentils-bundle', pvc: false },
      { values: VALUE_SETS.modelImage ?? {}, image: 'registry.example.com/models/lentils:1', pvc: false },
    ];
    for (const c of cases) {
      const chart = await render(c.values);
      const { args, volumeAt } = pod(chart);
      const set = args[args.indexOf('--set') + 1] ?? '';
      expect(set).toMatch(/^model\.path=/);
      const mountPath = set.slice('model.path='.length);
      expect(mountPath).toBe('/models/bundle');
      const { mount, volume } = volumeAt(mountPath);
      expect(mount.readOnly).toBe(true);
      if (c.image !== undefined) {
        expect(asRecord(volume.image, 'image volume').reference).toBe(c.image);
      } else {
        expect(asRecord(volume.persistentVolumeClaim, 'pvc volume').claimName).toBe(c.claim);
      }
      const pvcs = chart.objects.filter((o) => o.object.kind === 'PersistentVolumeClaim');
      expect(pvcs.length, JSON.stringify(c.values)).toBe(c.pvc ? 1 : 0);
      if (c.pvc) expect(asRecord(pvcs[0]?.object.metadata, 'metadata').name).toBe(c.claim);
    }
    const sub = pod(await render({ model: { bundle: { enabled: true, subPath: 'lentils' } } }));
    expect(sub.volumeAt('/models/bundle').mount.subPath).toBe('lentils');
  });

  it('nats.enabled: a JetStream StatefulSet with its store on a claim, and the Service the config sends to', async () => {
    expect(kinds(await render())).not.toContain('StatefulSet');
    const chart = await render({ nats: { enabled: true } });
    const objects = objectsOf(chart);
    const { config } = runConfigOf(chart);
    const servers = asRecord(asRecord(config.sinks, 'sinks').nats, 'sinks.nats').servers;
    for (const url of asArray(servers, 'servers')) {
      const { host, port } = hostPort(url);
      const service = asRecord(objects.get(`Service/${host}`)?.spec, `Service/${host}`);
      expect(asArray(service.ports, 'ports').map((p) => asRecord(p, 'p').port)).toContain(port);
    }
    const statefulSet = asRecord(objects.get('StatefulSet/nats')?.spec, 'StatefulSet spec');
    const template = asRecord(statefulSet.template, 'template');
    expectSelects(
      asRecord(statefulSet.selector, 's').matchLabels,
      asRecord(template.metadata, 'm').labels,
      'StatefulSet',
    );
    expectSelects(
      asRecord(objects.get('Service/nats')?.spec, 's').selector,
      asRecord(template.metadata, 'm').labels,
      'nats',
    );
    expect(objects.get(`Service/${String(statefulSet.serviceName)}`)).toBeDefined();
    // the same server as deploy/k8s/nats.yaml
    const k8s = (await readYamlDocuments(deployPath('k8s', 'nats.yaml'))).map((d) => asRecord(d, 'doc'));
    const k8sSet = k8s.find((d) => d.kind === 'StatefulSet');
    const containerOf = (spec: K8sObject): K8sObject =>
      asRecord(asArray(asRecord(asRecord(spec.template, 't').spec, 'p').containers, 'c')[0], 'container');
    const [chartNats, k8sNats] = [containerOf(statefulSet), containerOf(asRecord(k8sSet?.spec, 'k8s spec'))];
    for (const key of ['args', 'ports', 'startupProbe', 'livenessProbe', 'readinessProbe', 'volumeMounts'])
      expect(chartNats[key], key).toEqual(k8sNats[key]);
  });

  it('values.yaml: every value has a comment, is read by a template, and is in README.md', async () => {
    const text = await readFile(path.join(CHART, 'values.yaml'), 'utf8');
    const doc = parseDocument(text);
    const leaves: string[] = [];
    const undocumented: string[] = [];
    const walk = (node: unknown, at: string): void => {
      if (!isYamlMap(node)) return;
      node.items.forEach((pair, index) => {
        if (!isPair(pair) || !isScalar(pair.key)) return;
        const key = `${at}${String(pair.key.value)}`;
        const value = pair.value;
        const documented =
          (pair.key.commentBefore ?? '') !== '' ||
          (index === 0 && (node.commentBefore ?? '') !== '') ||
          (isScalar(value) && (value.comment ?? '') !== '') ||
          ((isYamlMap(value) || isSeq(value)) && (value.comment ?? '') !== '');
        // A map is a section whose keys have comments of their own, or one value documented as a
        // whole by the comment above it (resources, probes.*, the security contexts).
        const isSection =
          isYamlMap(value) &&
          value.items.length > 0 &&
          (!documented ||
            value.items.some(
              (item) => isPair(item) && isScalar(item.key) && (item.key.commentBefore ?? '') !== '',
            ));
        if (!documented && !isSection) undocumented.push(key);
        if (isSection) walk(value, `${key}.`);
        else leaves.push(key);
      });
    };
    walk(doc.contents, '');
    expect(undocumented).toEqual([]);
    expect(leaves.length).toBeGreaterThan(40);

    const read = new Set<string>();
    for (const values of Object.values(VALUE_SETS))
      for (const p of (await render(values)).valuesRead) read.add(p);
    const unread = leaves.filter((leaf) => ![...read].some((p) => p === leaf || leaf.startsWith(`${p}.`)));
    expect(unread).toEqual([]);

    const readme = await readFile(path.join(CHART, 'README.md'), 'utf8');
    const missing = leaves.filter((leaf) => !readme.includes(`\`${leaf}\``));
    expect(missing).toEqual([]);
  });

  it('every value set renders, and each object has apiVersion, kind and metadata.name', async () => {
    for (const [name, values] of Object.entries(VALUE_SETS)) {
      const chart = await render(values);
      expect(chart.objects.length, name).toBeGreaterThanOrEqual(4);
      for (const { object, source } of chart.objects) {
        expect(typeof object.apiVersion, source).toBe('string');
        expect(typeof object.kind, source).toBe('string');
        expect(typeof asRecord(object.metadata, source).name, source).toBe('string');
      }
    }
    const everything = await render(VALUE_SETS.everything);
    const { container, args, podSpec, labels } = pod(everything);
    expect(container.image).toBe('registry.example.com/cubestream:9.9.9');
    expect(args.slice(-2)).toEqual(['--set', 'log.level=debug']);
    expect(asArray(container.env, 'env')).toContainEqual({ name: 'MQTT_URL', value: 'mqtt://plc:1883' });
    expect(podSpec.nodeSelector).toEqual({ 'example.com/camera-network': 'true' });
    expect(labels.line).toBe('line1');
    expect(asRecord(only(everything, 'Deployment').spec, 'spec').replicas).toBe(2);
  });
});

describe('render-helm.ts fails on what it does not know', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-chart-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function renderOne(template: string, values: Record<string, unknown> = { a: { b: 'x' }, n: 3 }) {
    const chartDir = path.join(dir, `c${Math.random().toString(36).slice(2)}`);
    await mkdir(path.join(chartDir, 'templates'), { recursive: true });
    await writeFile(
      path.join(chartDir, 'Chart.yaml'),
      stringify({ apiVersion: 'v2', name: 't', version: '1.0.0' }),
    );
    await writeFile(path.join(chartDir, 'values.yaml'), stringify(values));
    await writeFile(path.join(chartDir, 'templates', 'x.yaml'), template);
    const chart = await renderChart(chartDir);
    return chart.manifests.get('templates/x.yaml') ?? '';
  }

  it('renders the subset as helm does (trim markers, if/else, pipelines, include, toYaml, nindent)', async () => {
    expect(await renderOne('k: {{ .Values.a.b | quote }}\n')).toBe('k: "x"\n');
    expect(await renderOne('a:\n  {{- if .Values.n }}\n  b: 1\n  {{- else }}\n  b: 2\n  {{- end }}\n')).toBe(
      'a:\n  b: 1\n',
    );
    expect(await renderOne('m:\n  {{- toYaml .Values.a | nindent 2 }}\n')).toBe('m:\n  b: x\n');
    expect(
      await renderOne(
        '{{- define "t.n" -}}{{ .Values.a.b }}-{{ .Release.Name }}{{- end -}}\nk: {{ include "t.n" . }}\n',
      ),
    ).toBe('k: x-cubestream\n');
    expect(await renderOne('k: {{ .Values.a.missing | default "d" }}\n', { a: { missing: '' } })).toBe(
      'k: d\n',
    );
    expect(await renderOne('k: {{ printf "%s-model" (.Values.a.b) }}\n')).toBe('k: x-model\n');
  });

  it.each([
    ['range', '{{ range .Values.a }}{{ . }}{{ end }}'],
    ['with', '{{ with .Values.a }}{{ .b }}{{ end }}'],
    ['an unknown function', '{{ .Values.a.b | upper }}'],
    ['a variable', '{{ $x := .Values.a }}'],
    ['else if', '{{ if .Values.n }}a{{ else if .Values.a }}b{{ end }}'],
    ['a value missing from values.yaml', '{{ .Values.a.nope }}'],
    ['.Capabilities', '{{ .Capabilities.KubeVersion }}'],
    ['printing a map', '{{ .Values.a }}'],
    ['a float in exponent form', '{{ .Values.big }}'],
    ['an unclosed if', '{{ if .Values.n }}a'],
    ['a printf verb other than %s', '{{ printf "%d" .Values.n }}'],
    ['output that is not YAML', 'a: [\n'],
  ])('%s', async (_what, template) => {
    await expect(renderOne(template, { a: { b: 'x' }, n: 3, big: 2_000_000 })).rejects.toThrow(
      HelmRenderError,
    );
  });

  it('merges values as helm does: maps key by key, lists replaced, null removes', () => {
    expect(mergeValues({ a: { b: 1, c: 2 }, l: [1, 2], d: 1 }, { a: { c: 3 }, l: [9], d: null })).toEqual({
      a: { b: 1, c: 3 },
      l: [9],
    });
  });
});

/** A helm binary: $HELM, or `helm` on the PATH; the cross-check below runs only where there is one. */
const HELM = [
  process.env.HELM,
  ...(process.env.PATH ?? '').split(':').map((dir) => path.join(dir, 'helm')),
].find(
  (candidate): candidate is string => candidate !== undefined && candidate !== '' && existsSync(candidate),
);
if (HELM === undefined) {
  console.warn(
    'test/deploy/helm-chart.test.ts: the cross-check against `helm template` and `helm lint` is skipped (no helm: set HELM=/path/to/helm)',
  );
}

describe.skipIf(HELM === undefined)('the same chart through helm itself ($HELM)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-helm-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('helm lint --strict passes', async () => {
    const { stdout } = await run(HELM ?? 'helm', ['lint', '--strict', CHART, '--set', 'nats.enabled=true']);
    expect(stdout).toContain('1 chart(s) linted, 0 chart(s) failed');
  });

  it('helm install --dry-run=client prints the same NOTES.txt', async () => {
    const { stdout } = await run(
      HELM ?? 'helm',
      ['install', 'cubestream', CHART, '-n', 'plant', '--dry-run=client'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    const notes = stdout.slice(stdout.indexOf('NOTES:\n') + 'NOTES:\n'.length);
    expect(notes.trim()).toBe((await render({}, { namespace: 'plant' })).notes.trim());
  });

  it.each(Object.keys(VALUE_SETS))(
    'helm template gives the same objects as render-helm.ts (%s)',
    async (name) => {
      const values = VALUE_SETS[name] ?? {};
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, stringify(values));
      const { stdout } = await run(
        HELM ?? 'helm',
        ['template', 'cubestream', CHART, '--namespace', 'plant', '-f', file],
        { maxBuffer: 16 * 1024 * 1024 },
      );
      const fromHelm = stringify(
        stdout
          .split(/^---$/m)
          .map((doc) => parse(doc) as unknown)
          .filter((doc) => doc !== null && doc !== undefined),
      );
      const ours = await render(values, { namespace: 'plant' });
      const byKey = (docs: unknown[]): Map<string, unknown> =>
        new Map(
          docs.map((d) => {
            const o = asRecord(d, 'doc');
            return [`${String(o.kind)}/${String(asRecord(o.metadata, 'm').name)}`, o];
          }),
        );
      const helmObjects = byKey(parse(fromHelm) as unknown[]);
      const ourObjects = byKey(ours.objects.map((o) => o.object));
      expect([...ourObjects.keys()].sort()).toEqual([...helmObjects.keys()].sort());
      for (const [key, object] of ourObjects) expect(object, key).toEqual(helmObjects.get(key));
    },
  );
});
