/**
 * A Sparkplug B host application for tests: an MQTT client subscribed to one group's topics that
 * decodes every payload with Eclipse Tahu's `sparkplug-payload` (Long values turned into numbers),
 * and can send NCMD rebirth requests and publish its own retained STATE.
 */
import mqtt from 'mqtt';
import { get } from 'sparkplug-payload';

/** A decoded metric. */
export interface HostMetric {
  name?: string;
  alias?: number;
  type: string;
  value: unknown;
  timestamp?: number;
}

/** A decoded Sparkplug message. */
export interface HostMessage {
  topic: string;
  /** NBIRTH, DBIRTH, DDATA, NDEATH, … */
  kind: string;
  edgeNodeId: string;
  deviceId?: string;
  seq?: number;
  timestamp?: number;
  metrics: HostMetric[];
}

/** A connected host and what it has received. */
export interface SparkplugHost {
  readonly messages: HostMessage[];
  /** Messages of one kind (and edge node, when given). */
  of(kind: string, edgeNodeId?: string): HostMessage[];
  /** Sends NCMD `Node Control/Rebirth` = true to an edge node. */
  requestRebirth(edgeNodeId: string): Promise<void>;
  /** Publishes this host's retained STATE `{online, timestamp}` on `spBv1.0/STATE/<hostId>`. */
  publishState(hostId: string, online: boolean, timestamp: number): Promise<void>;
  close(): Promise<void>;
}

const codec = get('spBv1.0');
if (codec === null) throw new Error('no spBv1.0 codec');

/** A Long (from protobufjs) or a number, as a number. */
function num(value: unknown): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'object' && 'toNumber' in value && typeof value.toNumber === 'function') {
    return (value as { toNumber(): number }).toNumber();
  }
  return Number(value);
}

/** Decodes a Sparkplug payload, turning Long values into numbers. */
export function decodeSparkplug(topic: string, payload: Uint8Array): HostMessage {
  const [, , kind = '', edgeNodeId = '', deviceId] = topic.split('/');
  const decoded = codec!.decodePayload(payload);
  const metrics = (decoded.metrics ?? []).map((m) => {
    const metric: HostMetric = {
      type: m.type,
      value: typeof m.value === 'object' && m.value !== null ? num(m.value) : m.value,
    };
    if (m.name !== undefined && m.name !== null) metric.name = m.name;
    const alias = num(m.alias);
    if (alias !== undefined) metric.alias = alias;
    const timestamp = num(m.timestamp);
    if (timestamp !== undefined) metric.timestamp = timestamp;
    return metric;
  });
  const message: HostMessage = { topic, kind, edgeNodeId, metrics };
  if (deviceId !== undefined) message.deviceId = deviceId;
  const seq = num(decoded.seq);
  if (seq !== undefined) message.seq = seq;
  const timestamp = num(decoded.timestamp);
  if (timestamp !== undefined) message.timestamp = timestamp;
  return message;
}

/** Connects a host subscribed (QoS 1) to `spBv1.0/<groupId>/#`. */
export async function startSparkplugHost(url: string, groupId: string): Promise<SparkplugHost> {
  const messages: HostMessage[] = [];
  const client = mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 100 });
  client.on('error', () => undefined);
  client.on('message', (topic, payload) => {
    messages.push(decodeSparkplug(topic, payload));
  });
  if (!client.connected) await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(`spBv1.0/${groupId}/#`, { qos: 1 });
  return {
    messages,
    of: (kind, edgeNodeId) =>
      messages.filter((m) => m.kind === kind && (edgeNodeId === undefined || m.edgeNodeId === edgeNodeId)),
    async requestRebirth(edgeNodeId) {
      const now = Date.now();
      const payload = codec!.encodePayload({
        timestamp: now,
        metrics: [{ name: 'Node Control/Rebirth', type: 'Boolean', value: true, timestamp: now }],
      });
      await client.publishAsync(`spBv1.0/${groupId}/NCMD/${edgeNodeId}`, Buffer.from(payload), { qos: 0 });
    },
    async publishState(hostId, online, timestamp) {
      await client.publishAsync(`spBv1.0/STATE/${hostId}`, JSON.stringify({ online, timestamp }), {
        qos: 1,
        retain: true,
      });
    },
    close: () => client.endAsync(true),
  };
}

/** The value of the metric named `name` in a BIRTH or NDEATH. */
export function metricValue(message: HostMessage | undefined, name: string): unknown {
  return message?.metrics.find((m) => m.name === name)?.value;
}
