/** An MQTT subscriber for sink tests: records every message with its QoS, retain flag and properties. */
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';

/** One received message. */
export interface ReceivedMessage {
  topic: string;
  payload: string;
  qos: number;
  retain: boolean;
  messageExpiryInterval?: number;
}

/** A connected subscriber and what it has received so far. */
export interface Collector {
  readonly client: MqttClient;
  readonly messages: ReceivedMessage[];
  /** Messages on one topic, payloads parsed as JSON. */
  json(topic: string): unknown[];
  close(): Promise<void>;
}

/** Connects, subscribes (QoS 1) to `topics`, and records messages. */
export async function collect(
  url: string,
  topics: string[],
  options: IClientOptions = {},
): Promise<Collector> {
  const messages: ReceivedMessage[] = [];
  const client = mqtt.connect(url, { protocolVersion: 5, reconnectPeriod: 100, ...options });
  client.on('error', () => undefined);
  client.on('message', (topic, payload, packet) => {
    const expiry = packet.properties?.messageExpiryInterval;
    messages.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      retain: packet.retain,
      ...(expiry === undefined ? {} : { messageExpiryInterval: expiry }),
    });
  });
  if (!client.connected) await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(topics, { qos: 1 });
  return {
    client,
    messages,
    json: (topic) => messages.filter((m) => m.topic === topic).map((m) => JSON.parse(m.payload) as unknown),
    close: () => client.endAsync(true),
  };
}

/** Polls `predicate` every 20 ms; rejects naming `what` after `timeoutMs`. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
