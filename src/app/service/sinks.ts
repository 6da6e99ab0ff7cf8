/**
 * Builds the decision sinks and the dead-letter route a run configuration names (MQTT, NATS,
 * JSONL file, OPC UA server, Sparkplug B edge node), all reporting to the service's metrics and logger. With `sinks.outbox`, the MQTT
 * and NATS sinks are made durable (journaled under `<outbox.dir>/<sink>/`, replayed at start).
 */
import {
  DeadLetterSink,
  type DeadLetterTarget,
  JsonlDeadLetterFile,
} from '../../../connectors/sinks/dead-letter.js';
import { FileDecisionSink } from '../../../connectors/sinks/file-sink.js';
import { MqttDecisionSink } from '../../../connectors/sinks/mqtt-sink.js';
import { NatsDecisionSink } from '../../../connectors/sinks/nats-sink.js';
import { OpcuaDecisionSink } from '../../../connectors/sinks/opcua/opcua-sink.js';
import {
  DurableDecisionSink,
  type DurableSinkMetrics,
  outboxHooks,
  sinkJournal,
} from '../../../connectors/sinks/outbox/durable-sink.js';
import type { OutboxJournal } from '../../../connectors/sinks/outbox/journal.js';
import type { DecisionSink, SinkHooks } from '../../../connectors/sinks/sink.js';
import { SparkplugDecisionSink } from '../../../connectors/sinks/sparkplug/sparkplug-sink.js';
import { defined } from '../../core/defined.js';
import { asError } from '../../core/errors.js';
import type { SinksConfig } from './run-config.js';

/** What {@link createSinks} needs beyond the config. */
export interface SinkContext extends Pick<SinkHooks, 'logger' | 'onDrop' | 'onError'> {
  /** `publish_errors_total`, `broker_connected`; with an outbox also `outbox_pending`, `outbox_replayed_total`. */
  readonly metrics?: DurableSinkMetrics;
  /** Model version reported in the retained MQTT status. */
  readonly modelVersion: string;
  /** Cameras whose MQTT connection (and retained status) opens at start. */
  readonly cameraIds: readonly string[];
}

/** The service's sinks: decision sinks (in config order: mqtt, nats, file, opcua, sparkplug) and the dead-letter route. */
export interface ServiceSinks {
  /** The decision sinks; with `sinks.outbox`, the MQTT and NATS ones are {@link DurableDecisionSink}s. */
  readonly decisions: readonly DecisionSink[];
  /** The MQTT sink itself, when configured (it carries the retained status; dead letters are not journaled). */
  readonly mqtt?: MqttDecisionSink;
  /** The NATS sink itself, when configured (ejects go through it unjournaled). */
  readonly nats?: NatsDecisionSink;
  /** The OPC UA server, when configured (status variables, eject events). */
  readonly opcua?: OpcuaDecisionSink;
  /** The Sparkplug B edge node, when configured (status metrics, eject metrics). */
  readonly sparkplug?: SparkplugDecisionSink;
  /** Fans rejected frames out to the configured targets; never throws. */
  readonly deadLetters: DeadLetterSink;
  /** Opens every sink; returns the connect failures (after a timeout the sink keeps trying in the background). */
  connect(): Promise<Error[]>;
  /** Closes the sinks and the dead-letter file. */
  close(): Promise<void>;
}

/**
 * Builds the sinks of a `sinks` section (nothing connects until {@link ServiceSinks.connect}).
 *
 * @throws `OptionError` for an option a sink refuses
 * @example
 * ```ts
 * const sinks = createSinks(config.sinks, { modelVersion: bundle.manifest.version, cameraIds: ['cam0'], metrics, logger });
 * await sinks.connect();
 * ```
 */
export function createSinks(config: SinksConfig, context: SinkContext): ServiceSinks {
  const hooks = defined({
    metrics: context.metrics,
    logger: context.logger,
    onDrop: context.onDrop,
    onError: context.onError,
  });
  const decisions: DecisionSink[] = [];
  const outbox = config.outbox;
  const journal = (sink: string): OutboxJournal | undefined =>
    outbox === undefined ? undefined : sinkJournal(outbox, sink, hooks);
  const durable = (sink: DecisionSink, itsJournal: OutboxJournal | undefined): DecisionSink =>
    itsJournal === undefined ? sink : new DurableDecisionSink(sink, itsJournal, hooks);
  let mqtt: MqttDecisionSink | undefined;
  let nats: NatsDecisionSink | undefined;
  if (config.mqtt !== undefined) {
    const m = config.mqtt;
    const mqttJournal = journal('mqtt');
    mqtt = new MqttDecisionSink({
      ...outboxHooks(mqttJournal, hooks),
      url: m.url,
      cameraIds: m.cameraIds ?? context.cameraIds,
      modelVersion: context.modelVersion,
      prefix: m.topicPrefix,
      protocol: m.protocol,
      messageExpirySeconds: m.messageExpirySeconds,
      offlineQueueSize: m.offlineQueue.size,
      overflow: m.offlineQueue.overflow,
      connectTimeoutMs: m.connectTimeoutMs,
      keepaliveSeconds: m.keepaliveSeconds,
      reconnect: { ...m.reconnect },
      ...defined({
        clientIdPrefix: m.clientIdPrefix,
        username: m.username,
        password: m.password,
        tls: m.tls,
      }),
    });
    decisions.push(durable(mqtt, mqttJournal));
  }
  if (config.nats !== undefined) {
    const n = config.nats;
    const natsJournal = journal('nats');
    nats = new NatsDecisionSink({
      ...outboxHooks(natsJournal, hooks),
      servers: n.servers,
      mode: n.mode,
      subjectPrefix: n.subjectPrefix,
      stream: { ...n.stream },
      offlineQueueSize: n.offlineQueue.size,
      overflow: n.offlineQueue.overflow,
      publishTimeoutMs: n.publishTimeoutMs,
      connectTimeoutMs: n.connectTimeoutMs,
      reconnectTimeWaitMs: n.reconnectTimeWaitMs,
      retry: { ...n.retry },
      ...defined({
        user: n.user,
        pass: n.pass,
        token: n.token,
        credsFile: n.credsFile,
        tls: n.tls,
      }),
    });
    decisions.push(durable(nats, natsJournal));
  }
  const file =
    config.file === undefined ? undefined : new FileDecisionSink({ ...hooks, path: config.file.path });
  if (file !== undefined) decisions.push(file);
  // Neither goes through the outbox: an OPC UA variable and a Sparkplug metric hold the current
  // state, and replaying old decisions into them after a restart would only make them lie.
  const opcua =
    config.opcua === undefined
      ? undefined
      : new OpcuaDecisionSink({
          ...hooks,
          ...config.opcua,
          cameraIds: config.opcua.cameraIds.length > 0 ? config.opcua.cameraIds : [...context.cameraIds],
          modelVersion: context.modelVersion,
        });
  if (opcua !== undefined) decisions.push(opcua);
  const sparkplug =
    config.sparkplug === undefined
      ? undefined
      : new SparkplugDecisionSink({
          ...hooks,
          ...config.sparkplug,
          cameraIds:
            config.sparkplug.cameraIds.length > 0 ? config.sparkplug.cameraIds : [...context.cameraIds],
          modelVersion: context.modelVersion,
        });
  if (sparkplug !== undefined) decisions.push(sparkplug);

  const deadLetterFile =
    config.deadLetter.file === undefined
      ? undefined
      : new JsonlDeadLetterFile({ path: config.deadLetter.file });
  const targets: DeadLetterTarget[] = [];
  if (mqtt !== undefined && config.deadLetter.targets.includes('mqtt')) targets.push(mqtt);
  if (nats !== undefined && config.deadLetter.targets.includes('nats')) targets.push(nats);
  if (deadLetterFile !== undefined) targets.push(deadLetterFile);
  const deadLetters = new DeadLetterSink(
    targets,
    defined({ metrics: context.metrics, logger: context.logger }),
  );

  return {
    decisions,
    mqtt,
    nats,
    opcua,
    sparkplug,
    deadLetters,
    async connect() {
      await deadLetterFile?.open();
      const results = await Promise.allSettled(decisions.map((sink) => sink.connect()));
      const failures: Error[] = [];
      for (const result of results) {
        if (result.status === 'rejected') {
          failures.push(asError(result.reason));
        }
      }
      return failures;
    },
    async close() {
      await Promise.allSettled(decisions.map((sink) => sink.close()));
      await deadLetterFile?.close();
    },
  };
}
