/**
 * A careless or hostile sender on the plant's MQTT broker: the service behind an MQTT source
 * decides only the cameras it admits, under the camera of the topic, and keeps its metric
 * labels, broker connections and retained statuses bounded.
 */
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeFrameMessage } from '../../../connectors/codec/frame-safetensors.js';
import { createLineScanSimulator } from '../../../connectors/sources/simulator/line-scan-simulator.js';
import { resolveDemoModelDir } from '../../../src/app/service/demo-settings.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { startService } from '../../../src/app/service/service.js';
import type { Decision } from '../../../src/core/decision.js';
import { validateConfig } from '../../../src/core/validate.js';
import { createLogger } from '../../../src/telemetry/logger.js';
import { brokersInstalled, startMosquitto, type TestBroker } from '../../helpers/brokers.js';
import { collect, waitFor } from '../../helpers/mqtt-collector.js';
import { parsePromText } from './prom-text.js';

const skip = !brokersInstalled && process.env.CI !== 'true';

describe.skipIf(skip)('camera admission of a broker source', () => {
  let broker: TestBroker;
  beforeAll(async () => {
    broker = await startMosquitto();
  });
  afterAll(async () => {
    await broker?.dispose();
  });

  it('decides admitted cameras only; metadata naming another camera and unlisted or bad ids are rejected and counted', async () => {
    const config = validateConfig(
      RunConfigSchema,
      {
        source: { kind: 'mqtt', url: broker.url, topic: 'adm/+/frames', cameraIds: ['cam0'] },
        model: { path: resolveDemoModelDir() },
        sinks: { mqtt: { url: broker.url, topicPrefix: 'adm' } },
        metrics: { port: 0, host: '127.0.0.1' },
        viewer: { enabled: false },
      },
      'test',
    );
    const decided: Decision[] = [];
    const service = await startService(config, {
      logger: createLogger({ level: 'silent' }),
      onDecision: (d) => decided.push(d.decision),
    });
    const sub = await collect(broker.url, ['adm/+/decisions', 'adm/+/status']);
    const sim = createLineScanSimulator({ width: 32, blockRows: 8, seed: 4 });
    const block = () => {
      const frame = sim.nextFrame();
      if (frame === undefined) throw new Error('simulator ended');
      return frame;
    };
    const publisher = await mqtt.connectAsync(broker.url);
    const send = (topic: string, payload: Uint8Array) =>
      publisher.publishAsync(topic, Buffer.from(payload), { qos: 1 });
    try {
      await waitFor(() => service.sourceState === 'running', 'source running');
      await send('adm/cam0/frames', encodeFrameMessage(block()));
      const flood = 40;
      for (let i = 0; i < flood; i++) {
        await send('adm/cam0/frames', encodeFrameMessage({ ...block(), cameraId: `flood-${i}` }));
        await send(`adm/flood-${i}/frames`, encodeFrameMessage({ ...block(), cameraId: `flood-${i}` }));
      }
      await send('adm/cam$1/frames', encodeFrameMessage(block()));
      await send(`adm/${'é'.repeat(10)}/frames`, encodeFrameMessage(block()));
      await send('adm/cam0/frames', encodeFrameMessage(block()));
      await waitFor(
        () => decided.length >= 2 && service.stats.rejected >= 2 * flood + 2,
        'decisions and rejections',
      );

      expect(decided.map((d) => d.cameraId)).toEqual(['cam0', 'cam0']);
      const text = await (await fetch(`${service.telemetryUrl}/metrics`)).text();
      const rejected = parsePromText(text).filter((s) => s.name === 'cubestream_frames_rejected_total');
      const count = (camera: string) =>
        rejected.find((s) => s.labels.camera === camera && s.labels.reason === 'camera')?.value ?? 0;
      expect(count('cam0')).toBe(flood);
      expect(count('_unknown')).toBe(flood + 2);
      const cameraLabels = new Set(
        parsePromText(text)
          .map((s) => s.labels.camera)
          .filter((c) => c !== undefined),
      );
      expect([...cameraLabels].sort()).toEqual(['_unknown', 'cam0']);
      await waitFor(() => sub.messages.some((m) => m.topic === 'adm/cam0/decisions'), 'a decision on MQTT');
      expect(new Set(sub.messages.map((m) => m.topic.split('/')[1]))).toEqual(new Set(['cam0']));
    } finally {
      await publisher.endAsync();
      await sub.close();
      await service.stop('test');
    }
  });
});
