/**
 * A child process running an MQTT decision sink, for the last-will test: the test kills it with
 * SIGKILL and checks that the broker publishes the retained `offline` status.
 *
 * Usage: node --import tsx test/helpers/mqtt-sink-child.ts <brokerUrl> <cameraId> <prefix>
 * Prints `{"ready":true}` once connected, then idles until killed.
 */
import { MqttDecisionSink } from '../../connectors/sinks/mqtt-sink.js';
import { createLogger } from '../../src/telemetry/logger.js';

const [url, cameraId, prefix] = process.argv.slice(2);
if (url === undefined || cameraId === undefined || prefix === undefined) {
  process.stderr.write('usage: mqtt-sink-child.ts <brokerUrl> <cameraId> <prefix>\n');
  process.exit(2);
}
const sink = new MqttDecisionSink({
  url,
  cameraIds: [cameraId],
  prefix,
  modelVersion: 'child-model',
  logger: createLogger({ level: 'silent' }),
});
await sink.connect();
await sink.publishStatus(cameraId, { threshold: 0.25 });
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
setInterval(() => undefined, 60_000);
