/**
 * `cubestream demo` as a child process: against a test mosquitto (`--mqtt`) plus NATS, and with
 * its embedded aedes broker on a free port (`--embedded-port`, since 1883 may be taken).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecision } from '../../../connectors/codec/decision-json.js';
import { runCli } from '../../../src/app/cli/main.js';
import { spawnCli } from '../../e2e/cli-process.js';
import {
  brokersInstalled,
  freePort,
  startMosquitto,
  startNatsServer,
  type TestBroker,
} from '../../helpers/brokers.js';
import { captureIO } from '../../helpers/capture-io.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';

const skip = !brokersInstalled && process.env.CI !== 'true';
if (skip) console.warn('demo tests skipped: mosquitto or nats-server is not installed');

describe('cubestream demo (options)', () => {
  it('refuses a bad port or duration with a usage error', async () => {
    const io = captureIO();
    expect(await runCli(['demo', '--metrics-port', '70000'], io)).toBe(2);
    expect(io.stderr()).toBe(
      'cubestream demo: --metrics-port must be an integer >= 0 and <= 65535, got "70000"\n',
    );
    const io2 = captureIO();
    expect(await runCli(['demo', '--duration', 'soon'], io2)).toBe(2);
    expect(io2.stderr()).toContain('--duration must be a number');
  });
});

describe.skipIf(skip)('cubestream demo', () => {
  let mosquitto: TestBroker;
  let nats: TestBroker;
  beforeAll(async () => {
    [mosquitto, nats] = await Promise.all([startMosquitto(), startNatsServer()]);
  });
  afterAll(async () => {
    await Promise.all([mosquitto?.dispose(), nats?.dispose()]);
  });

  it('--duration 5 --mqtt URL --nats URL: publishes decisions, prints where to look and a summary, exits 0', async () => {
    const sub = await collect(mosquitto.url, ['cubestream/#']);
    const [metricsPort, viewerPort] = [await freePort(), await freePort()];
    const proc = spawnCli([
      'demo',
      '--duration',
      '5',
      '--mqtt',
      mosquitto.url,
      '--nats',
      nats.url,
      '--metrics-port',
      String(metricsPort),
      '--viewer-port',
      String(viewerPort),
      '--seed',
      '3',
    ]);
    const { code } = await proc.exited;
    expect(code, proc.stderr()).toBe(0);
    const out = proc.stdout();
    expect(out).toContain(`mosquitto_sub -h 127.0.0.1 -p ${mosquitto.port} -t 'cubestream/#' -v`);
    expect(out).toContain(`curl -s http://127.0.0.1:${metricsPort}/metrics`);
    expect(out).toContain(`http://127.0.0.1:${viewerPort}/viewer/`);
    // the addresses actually bound: loopback unless --host says otherwise
    expect(out).toContain(`(listening on 127.0.0.1:${metricsPort})`);
    expect(out).toContain(`(listening on 127.0.0.1:${viewerPort})`);
    expect(out).toMatch(/seed 3/);
    const summary = proc.lines.filter((l) => l.startsWith('frames '));
    expect(summary.length).toBeGreaterThan(0);
    expect(summary.at(-1)).toMatch(
      /^frames \d+ \(\d+\.\d\/s\) · anomalous \d+ · τ \S+ · p99 \d+ ms · drops \d+ · rejected 0 · false alarms (\d+\.\d\d %|-) of \d+ clean · recall (\d+\.\d %|-) of \d+ foreign bodies$/,
    );

    await waitFor(() => sub.json('cubestream/cam0/decisions').length > 0, 'a decision');
    const decisions = sub.messages
      .filter((m) => m.topic === 'cubestream/cam0/decisions')
      .map((m) => parseDecision(m.payload));
    expect(decisions.every((d) => d.modelVersion === 'demo-lentils-2' && d.pixels === 64 * 256)).toBe(true);
    const frames = Number(/^frames (\d+)/.exec(summary.at(-1) ?? '')?.[1]);
    expect(decisions.length).toBe(frames);
    const nc = await connect({ servers: nats.url });
    try {
      const info = await (await jetstreamManager(nc)).streams.info('CUBESTREAM_DECISIONS');
      expect(info.state.messages).toBe(frames);
    } finally {
      await nc.close();
    }
    await sub.close();
  });

  it('starts its embedded aedes broker when the port is free, and decisions reach a subscriber there', async () => {
    const [embeddedPort, metricsPort, viewerPort] = [await freePort(), await freePort(), await freePort()];
    const proc = spawnCli([
      'demo',
      '--duration',
      '4',
      '--embedded-port',
      String(embeddedPort),
      '--metrics-port',
      String(metricsPort),
      '--viewer-port',
      String(viewerPort),
    ]);
    await waitFor(() => proc.stdout().includes('embedded broker'), 'the banner', 20_000);
    expect(proc.stdout()).toContain(
      `via embedded broker (aedes, MQTT 3.1.1) on mqtt://127.0.0.1:${embeddedPort}`,
    );
    const sub = await collect(`mqtt://127.0.0.1:${embeddedPort}`, ['cubestream/#'], { protocolVersion: 4 });
    await waitFor(() => sub.json('cubestream/cam0/decisions').length >= 2, 'two decisions');
    for (const m of sub.messages.filter((x) => x.topic === 'cubestream/cam0/decisions'))
      parseDecision(m.payload);
    const { code } = await proc.exited;
    expect(code, proc.stderr()).toBe(0);
    await sub.close();
  });
});
