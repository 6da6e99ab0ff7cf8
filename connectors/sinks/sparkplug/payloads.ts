/**
 * The Sparkplug B payloads of the edge node, encoded with Eclipse Tahu's `sparkplug-payload`
 * (SP6): NBIRTH and NDEATH with `bdSeq`, DBIRTH with every metric by name and alias, DDATA with
 * aliases only. Payload timestamps are the publish time; metric timestamps are the values' own
 * (a decision's capture time).
 */
import { get } from 'sparkplug-payload';
import type { SparkplugDevice } from './device-table.js';
import { DEVICE_METRICS, type DeviceMetricName, deviceMetric, NODE_METRICS } from './metrics.js';

type Codec = NonNullable<ReturnType<typeof get>>;
/** A payload as `sparkplug-payload` takes it. */
export type SparkplugPayload = Parameters<Codec['encodePayload']>[0];
type Metric = NonNullable<SparkplugPayload['metrics']>[number];

const codec: Codec = (() => {
  const found = get('spBv1.0');
  if (found === null) throw new Error('sparkplug-payload has no spBv1.0 codec');
  return found;
})();

/** Encodes a payload to protobuf bytes. */
export function encodePayload(payload: SparkplugPayload): Buffer {
  return Buffer.from(codec.encodePayload(payload));
}

/** Decodes protobuf bytes (NCMD, DCMD); throws on a malformed payload. */
export function decodePayload(bytes: Uint8Array): SparkplugPayload {
  return codec.decodePayload(bytes);
}

/** NBIRTH (SP6 l.1073-1081): seq 0, `bdSeq` of the current CONNECT, `Node Control/Rebirth` false. */
export function nbirthPayload(bdSeq: number, now: number): SparkplugPayload {
  return {
    timestamp: now,
    seq: 0,
    metrics: [
      { name: NODE_METRICS.bdSeq.name, type: NODE_METRICS.bdSeq.type, value: bdSeq, timestamp: now },
      { name: NODE_METRICS.rebirth.name, type: NODE_METRICS.rebirth.type, value: false, timestamp: now },
    ],
  };
}

/** NDEATH (SP6 l.1509-1543): only `bdSeq` (Int64), no seq; the will and the clean close send it. */
export function ndeathPayload(bdSeq: number, now: number): SparkplugPayload {
  return {
    timestamp: now,
    metrics: [{ name: NODE_METRICS.bdSeq.name, type: NODE_METRICS.bdSeq.type, value: bdSeq, timestamp: now }],
  };
}

/** DBIRTH: every device metric with name, alias, current value and its timestamp. */
export function dbirthPayload(device: SparkplugDevice, seq: number, now: number): SparkplugPayload {
  const metrics: Metric[] = DEVICE_METRICS.map((m) => {
    const sample = device.get(m.name);
    return {
      name: m.name,
      alias: device.alias(m.name),
      type: m.type,
      value: sample.value,
      timestamp: sample.timestamp,
    };
  });
  return { timestamp: now, seq, metrics };
}

/** DDATA: the named metrics by alias only, with their current values and timestamps. */
export function ddataPayload(
  device: SparkplugDevice,
  names: readonly DeviceMetricName[],
  seq: number,
  now: number,
): SparkplugPayload {
  const metrics: Metric[] = names.map((name) => {
    const sample = device.get(name);
    return {
      alias: device.alias(name),
      type: deviceMetric(name).type,
      value: sample.value,
      timestamp: sample.timestamp,
    };
  });
  return { timestamp: now, seq, metrics };
}
