import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { deadLetterFromError, encodeDeadLetter } from '../../connectors/sinks/dead-letter.js';
import { encodeStatus } from '../../connectors/sinks/status.js';
import {
  decisionMsgId,
  type MqttTopicKind,
  mqttTopic,
  type NatsSubjectKind,
  natsSubject,
} from '../../connectors/sinks/topics.js';
import { cameraIdFromTopic } from '../../connectors/sources/mqtt-frames.js';
import { cameraIdFromSubject } from '../../connectors/sources/nats-frames.js';
import { REPO_ROOT } from '../../scripts/generate-wire-schemas.js';
import { RunConfigSchema } from '../../src/app/service/run-config.js';
import { encodeEject } from '../../src/core/eject.js';
import { InvalidFrameError } from '../../src/core/frame.js';
import { makeDecision } from '../helpers/decision-fixture.js';

interface Channel {
  readonly address: string;
  readonly servers: readonly { $ref: string }[];
  readonly messages: Record<string, { $ref: string }>;
}

interface Operation {
  readonly action: 'send' | 'receive';
  readonly channel: { $ref: string };
  readonly messages: readonly { $ref: string }[];
  readonly bindings?: { mqtt?: Record<string, unknown> };
}

interface AsyncApi {
  readonly asyncapi: string;
  readonly servers: Record<string, { protocol: string; bindings?: { mqtt?: Record<string, unknown> } }>;
  readonly channels: Record<string, Channel>;
  readonly operations: Record<string, Operation>;
  readonly components: { messages: Record<string, { payload: Record<string, unknown> }> };
}

const DOC = 'docs/asyncapi.yaml';
const doc = parse(readFileSync(path.join(REPO_ROOT, DOC), 'utf8')) as AsyncApi;

/** The per-camera topic kinds the doc must describe; adding a kind to topics.ts breaks the build here. */
const MQTT_KINDS = ['decisions', 'status', 'deadletter', 'eject'] as const;
const NATS_KINDS = ['decisions', 'deadletter', 'eject'] as const;
const mqttComplete: Exclude<MqttTopicKind, (typeof MQTT_KINDS)[number]> extends never ? true : false = true;
const natsComplete: Exclude<NatsSubjectKind, (typeof NATS_KINDS)[number]> extends never ? true : false = true;

/** The run config's defaults for a service reading frames from MQTT and NATS and writing to both. */
function defaults() {
  const model = { path: 'models/demo' };
  const sinks = { mqtt: { url: 'mqtt://broker' }, nats: { servers: 'nats://broker' } };
  const mqtt = RunConfigSchema.parse({ source: { kind: 'mqtt', url: 'mqtt://broker' }, model, sinks });
  const nats = RunConfigSchema.parse({ source: { kind: 'nats', servers: 'nats://broker' }, model, sinks });
  if (mqtt.source.kind !== 'mqtt' || nats.source.kind !== 'nats') throw new Error('unreachable');
  if (mqtt.sinks.mqtt === undefined || mqtt.sinks.nats === undefined) throw new Error('unreachable');
  return {
    mqttPrefix: mqtt.sinks.mqtt.topicPrefix,
    natsPrefix: mqtt.sinks.nats.subjectPrefix,
    mqttSourceTopic: mqtt.source.topic,
    mqttSourceQos: mqtt.source.qos,
    natsSourceSubject: nats.source.subject,
    messageExpirySeconds: mqtt.sinks.mqtt.messageExpirySeconds,
    keepaliveSeconds: mqtt.sinks.mqtt.keepaliveSeconds,
  };
}

function channelOn(server: 'mqtt' | 'nats', addressEnd: string): Channel {
  const found = Object.values(doc.channels).filter(
    (c) => c.servers.some((s) => s.$ref === `#/servers/${server}`) && c.address.endsWith(addressEnd),
  );
  expect(found, `${server} channel ending in ${addressEnd}`).toHaveLength(1);
  return found[0] as Channel;
}

/** Resolves a local `#/a/b/c` reference in the document. */
function resolve(ref: string): unknown {
  expect(ref.startsWith('#/'), ref).toBe(true);
  let node: unknown = doc;
  for (const key of ref.slice(2).split('/')) {
    node = (node as Record<string, unknown> | undefined)?.[key];
  }
  expect(node, `${ref} resolves`).toBeDefined();
  return node;
}

function payloadValidator(message: string) {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  const payload = doc.components.messages[message]?.payload;
  if (payload === undefined) throw new Error(`no message ${message}`);
  return { ajv, validate: ajv.compile(payload) };
}

describe('docs/asyncapi.yaml', () => {
  const d = defaults();
  const camera = 'line-3';

  it('is an AsyncAPI 3.0 document with an MQTT and a NATS server', () => {
    expect(mqttComplete && natsComplete).toBe(true);
    expect(doc.asyncapi).toBe('3.0.0');
    expect(doc.servers.mqtt?.protocol).toBe('mqtt');
    expect(doc.servers.nats?.protocol).toBe('nats');
    expect(doc.servers.mqtt?.bindings?.mqtt?.keepAlive).toBe(d.keepaliveSeconds);
  });

  it.each(MQTT_KINDS)('has the MQTT %s channel at the address mqttTopic() builds', (kind) => {
    const channel = channelOn('mqtt', `/${kind}`);
    expect(channel.address.replace('{cameraId}', camera)).toBe(mqttTopic(d.mqttPrefix, camera, kind));
  });

  it.each(NATS_KINDS)('has the NATS %s channel at the subject natsSubject() builds', (kind) => {
    const channel = channelOn('nats', `.${kind}.{cameraId}`);
    expect(channel.address.replace('{cameraId}', camera)).toBe(natsSubject(d.natsPrefix, kind, camera));
  });

  it('has the frame channels the sources subscribe to by default, camera id where they read it', () => {
    const mqtt = channelOn('mqtt', '/frames').address;
    expect(mqtt.replace('{cameraId}', '+')).toBe(d.mqttSourceTopic);
    expect(cameraIdFromTopic(mqtt.replace('{cameraId}', camera))).toBe(camera);
    const nats = channelOn('nats', '.frames.{cameraId}').address;
    expect(nats.replace('{cameraId}', '*')).toBe(d.natsSourceSubject);
    expect(cameraIdFromSubject(nats.replace('{cameraId}', camera))).toBe(camera);
    expect(Object.keys(doc.channels)).toHaveLength(MQTT_KINDS.length + NATS_KINDS.length + 2);
  });

  it('has operations whose references resolve, with the sinks’ MQTT QoS, retain and expiry', () => {
    for (const [name, operation] of Object.entries(doc.operations)) {
      const channel = resolve(operation.channel.$ref) as Channel;
      for (const message of operation.messages) {
        expect(message.$ref.startsWith(`${operation.channel.$ref}/messages/`), name).toBe(true);
        resolve(message.$ref);
      }
      for (const message of Object.values(channel.messages)) resolve(message.$ref);
      expect(operation.action, name).toBe(channel.address.includes('frames') ? 'receive' : 'send');
    }
    const mqtt = (kind: string) => doc.operations[kind]?.bindings?.mqtt;
    expect(mqtt('receiveMqttFrames')).toEqual({ qos: d.mqttSourceQos });
    expect(mqtt('sendMqttDecisions')).toEqual({
      qos: 1,
      retain: false,
      messageExpiryInterval: d.messageExpirySeconds,
    });
    expect(mqtt('sendMqttStatus')).toEqual({ qos: 1, retain: true });
    expect(mqtt('sendMqttDeadLetters')).toEqual({ qos: 1, retain: false });
    expect(mqtt('sendMqttEjects')).toEqual({ qos: 1, retain: false });
  });

  it('describes the eject command encodeEject writes', () => {
    const { ajv, validate } = payloadValidator('eject');
    const text = encodeEject({
      cameraId: camera,
      frameId: 12,
      blobId: '12:64:0',
      valves: [3, 4],
      fireAt: 1_764_921_600_123.5,
      openMs: 10,
      budgetMs: 141.2,
    });
    expect(validate(JSON.parse(text)), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    expect(validate({ ...JSON.parse(text), extra: 1 })).toBe(false);
  });

  it('takes the decision payload from the generated JSON Schema', () => {
    for (const name of ['decision', 'natsDecision']) {
      const ref = doc.components.messages[name]?.payload.$ref;
      expect(ref).toBe('./schemas/decision.schema.json');
      expect(existsSync(path.join(REPO_ROOT, 'docs', String(ref)))).toBe(true);
    }
    expect(decisionMsgId(makeDecision({ cameraId: camera, frameId: 7 }))).toMatch(/^line-3:\d+:7:0$/);
  });

  it('describes the status message encodeStatus writes', () => {
    const { ajv, validate } = payloadValidator('status');
    for (const text of [
      encodeStatus({ state: 'online', modelVersion: 'demo-1', threshold: 52.5, at: 1_764_921_600_000 }),
      encodeStatus({ state: 'offline', modelVersion: 'demo-1', at: 1_764_921_600_000 }),
      encodeStatus({ state: 'online', modelVersion: 'demo-1', threshold: Number.NaN, at: 1 }),
    ]) {
      expect(validate(JSON.parse(text)), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    expect(validate({ state: 'gone', modelVersion: 'demo-1', at: 1 })).toBe(false);
    expect(validate({ state: 'online', modelVersion: 'demo-1', at: 1, extra: true })).toBe(false);
  });

  it('matches the status and dead-letter examples of docs/wire-format.md', () => {
    const text = readFileSync(path.join(REPO_ROOT, 'docs/wire-format.md'), 'utf8');
    const examples = [...text.matchAll(/```json\n(.*)\n```/g)].map((m) => JSON.parse(m[1] ?? ''));
    const status = examples.filter((e) => 'state' in e);
    const letters = examples.filter((e) => e.schema === 'cubestream.deadletter/1');
    expect(status).toHaveLength(1);
    expect(letters).toHaveLength(1);
    const statusCheck = payloadValidator('status').validate;
    const letterCheck = payloadValidator('deadLetter').validate;
    for (const e of status) expect(statusCheck(e)).toBe(true);
    for (const e of letters) expect(letterCheck(e)).toBe(true);
    expect(JSON.stringify(status[0])).toBe(encodeStatus(status[0]));
  });

  it('describes the dead letter encodeDeadLetter writes', () => {
    const { ajv, validate } = payloadValidator('deadLetter');
    const error = new InvalidFrameError('shape', 'height', 0, 'must be a positive integer');
    for (const letter of [
      deadLetterFromError(error, { cameraId: camera, frameId: 3, metadata: { rowOffset: 64, bands: 61 } }),
      deadLetterFromError(new Error('boom'), { metadata: { channel: 'cubestream/x/frames', bytes: 12 } }),
    ]) {
      const text = encodeDeadLetter(letter);
      expect(validate(JSON.parse(text)), `${text}: ${ajv.errorsText(validate.errors)}`).toBe(true);
    }
    expect(validate({ schema: 'cubestream.deadletter/1', reason: 'shape', at: 1 })).toBe(false);
  });
});
