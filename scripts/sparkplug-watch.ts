/**
 * A minimal Sparkplug B host to see what Ignition would: subscribes to `spBv1.0/#` on a broker,
 * decodes every payload with Eclipse Tahu's `sparkplug-payload` and prints topic, seq and the
 * metrics (name = value) as one line each. DATA messages carry aliases only: their names come from
 * cubestream's alias scheme (docs/sparkplug.md), as a host learns them from the births.
 *
 * Usage: npx tsx scripts/sparkplug-watch.ts mqtt://127.0.0.1:1883 [--count N]
 */
import { parseArgs } from 'node:util';
import mqtt from 'mqtt';
import { get } from 'sparkplug-payload';
import { ALIAS_STRIDE, DEVICE_METRICS } from '../connectors/sinks/sparkplug/metrics.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { count: { type: 'string', default: '10' } },
});
const url = positionals[0];
const codec = get('spBv1.0');
if (url === undefined || codec === null) {
  console.error('usage: npx tsx scripts/sparkplug-watch.ts mqtt://HOST:PORT [--count N]');
  process.exit(2);
}
/** A protobufjs Long, or a plain value, as something JSON can print. */
const plain = (value: unknown): unknown =>
  typeof value === 'object' && value !== null && 'toNumber' in value && typeof value.toNumber === 'function'
    ? (value as { toNumber(): number }).toNumber()
    : value;
/** A cubestream edge node's metric name from its alias (`ALIAS_STRIDE × (device + 1) + offset`), before any birth was seen. */
const cubestreamName = (alias: number): string =>
  DEVICE_METRICS.find((m) => m.offset === alias % ALIAS_STRIDE)?.name ?? `#${alias}`;
let left = Number(values.count);
const client = mqtt.connect(url, { clientId: `sparkplug-watch-${process.pid}` });
client.on('connect', () => client.subscribe('spBv1.0/#', { qos: 1 }));
client.on('message', (topic, payload) => {
  if (topic.startsWith('spBv1.0/STATE/')) return;
  const decoded = codec.decodePayload(payload);
  const metrics = (decoded.metrics ?? []).map((m) => {
    const name = m.name ?? cubestreamName(Number(plain(m.alias)));
    return `${name}=${JSON.stringify(plain(m.value))}`;
  });
  console.log(`${topic} seq=${String(plain(decoded.seq) ?? '-')} ${metrics.join(' ')}`);
  if (--left <= 0) client.end();
});
