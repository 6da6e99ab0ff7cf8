/**
 * `cubestream/connectors`: where frames come from (simulated camera, ENVI replay, MQTT, NATS) and
 * where decisions go (MQTT, NATS JetStream, JSONL file, dead letters, a durable outbox), with the
 * subscriber's helpers (topics, message ids, de-duplication). The frame and decision types and
 * codecs are exported by `cubestream`.
 *
 * @example
 * ```ts
 * import { MqttDecisionSink, simulatedLineScan } from 'cubestream/connectors';
 *
 * const camera = simulatedLineScan({ width: 256, maxBlocks: 100 });
 * const sink = new MqttDecisionSink({ url: 'mqtt://127.0.0.1:1883', cameraIds: ['cam0'], modelVersion: 'v1' });
 * ```
 *
 * @packageDocumentation
 */

/** Reconnect backoff of the broker sinks and sources. */
export type { BackoffOptions } from './shared/backoff.js';
/** Camera leases in a NATS KV bucket: one owner per camera across workers (docs/scaling-out.md). */
export {
  CAMERA_LEASE_DEFAULTS,
  CameraLeases,
  type CameraLeasesOptions,
  fairShare,
} from './shared/camera-leases.js';
/** The TLS files of a broker connection, and the error for one that cannot be read. */
export { TlsFileError, type TlsFileOptions } from './shared/tls-files.js';
/** Decided blocks saved for retraining under a disk budget (`sinks.capture`, docs/capture.md). */
export { CaptureSettingsSchema, CaptureSink } from './sinks/capture/index.js';
/** Dead letters: rejected frames and failed messages, kept with why (docs/wire-format.md §2). */
export {
  DEAD_LETTER_SCHEMA,
  type DeadLetter,
  type DeadLetterContext,
  type DeadLetterResult,
  DeadLetterSink,
  type DeadLetterTarget,
  deadLetterFromError,
  encodeDeadLetter,
  JsonlDeadLetterFile,
  type JsonlDeadLetterFileOptions,
  type JsonValue,
} from './sinks/dead-letter.js';
/** The errors sinks raise and report. */
export {
  InvalidCameraIdError,
  PublishRejectedError,
  SinkAuthError,
  SinkClosedError,
  SinkConnectTimeoutError,
  SinkFlushTimeoutError,
  SinkTlsError,
  StreamConfigError,
} from './sinks/errors.js';
/** Decisions appended to a JSONL file. */
export { FileDecisionSink, type FileSinkOptions } from './sinks/file-sink.js';
/** The camera gateway's side: frames into the JetStream stream CUBESTREAM_FRAMES. */
export { type FramePublisherOptions, JetStreamFramePublisher } from './sinks/frame-publisher.js';
/** Decisions to MQTT (QoS 1, MQTT 5 with a 3.1.1 fallback), per camera. */
export { MqttDecisionSink, type MqttSinkOptions, type MqttTlsOptions } from './sinks/mqtt-sink.js';
/** Decisions to NATS: JetStream (stored, de-duplicated) or core NATS. */
export { NatsDecisionSink, type NatsSinkOptions, type NatsTlsOptions } from './sinks/nats-sink.js';
/** The JetStream stream that stores decisions. */
export {
  DEFAULT_DECISION_STREAM,
  type DecisionStreamConfig,
  ensureDecisionStream,
} from './sinks/nats-stream.js';
/** An OPC UA server for PLCs and SCADA: per-camera variables, anomaly and eject events (node-opcua, loaded on connect). */
export { OpcuaDecisionSink, type OpcuaSinkOptions } from './sinks/opcua/opcua-sink.js';
/** A sink made durable by an on-disk outbox: decisions not yet acknowledged survive a restart. */
export {
  DurableDecisionSink,
  type DurableSinkHooks,
  type DurableSinkMetrics,
  type OutboxSettings,
  outboxHooks,
  sinkJournal,
} from './sinks/outbox/durable-sink.js';
/** The outbox journal of one sink. */
export type { OutboxJournal } from './sinks/outbox/journal.js';
/** A journal that cannot be opened or written. */
export { OutboxError } from './sinks/outbox/outbox-error.js';
/** The subscriber's de-duplication of decisions delivered twice. */
export { DecisionDeduper } from './sinks/outbox/subscriber-dedup.js';
/** The contract of every decision sink and the hooks it reports through. */
export {
  type DecisionSink,
  type DroppedMessage,
  type DropReason,
  type OverflowPolicy,
  type PublishOutcome,
  type SinkHooks,
  sinkHealthCheck,
} from './sinks/sink.js';
/** A Sparkplug B 3.0 edge node: a device per camera on an MQTT broker. */
export { SparkplugDecisionSink, type SparkplugSinkOptions } from './sinks/sparkplug/sparkplug-sink.js';
/** The retained per-camera status message (online/offline, model version, τ). */
export { type CameraState, type CameraStatus, encodeStatus } from './sinks/status.js';
/** Topic and subject names, and the message id subscribers and JetStream de-duplicate by. */
export {
  decisionMsgId,
  type MqttTopicKind,
  mqttTopic,
  type NatsSubjectKind,
  natsSubject,
} from './sinks/topics.js';
/** Options shared by the MQTT and NATS frame sources, and what they report for a message they reject. */
export type { BrokerFrameSourceOptions, RejectedMessage } from './sources/broker-frame-source.js';
/** How an asynchronous consumer paces an unpaced source. */
export type { Demand } from './sources/demand.js';
/** Replays ENVI cubes from disk as a camera. */
export { type EnviReplayOptions, enviReplay } from './sources/envi-replay.js';
/** A GenICam line-scan camera (GigE Vision, USB3 Vision) through Aravis (optional: libaravis + koffi). */
export {
  type DroppedLines,
  type GenicamCameraSource,
  type GenicamSourceHooks,
  type GenicamSourceOptions,
  genicamSource,
} from './sources/genicam/genicam-source.js';
export {
  type GenicamSourceSettings,
  GenicamSourceSettingsSchema,
} from './sources/genicam/genicam-source-options.js';
/** Frames from the JetStream stream CUBESTREAM_FRAMES: a durable consumer, each frame acked after its decision. */
export {
  type JetStreamFramesOptions,
  jetstreamFrames,
  type LeaseEvent,
} from './sources/jetstream-frames.js';
/** Frames from MQTT, in the safetensors wire format. */
export { cameraIdFromTopic, type MqttFramesOptions, mqttFrames } from './sources/mqtt-frames.js';
/** Frames from NATS, in the safetensors wire format. */
export { cameraIdFromSubject, type NatsFramesOptions, natsFrames } from './sources/nats-frames.js';
/** The simulated line-scan camera over a lentil conveyor, its options and material classes. */
export {
  isSimAnomaly,
  SIM_ANOMALY_CLASS_IDS,
  SIM_CLASSES,
  SIM_NORMAL_CLASS_IDS,
  SIM_PRESETS,
  type SimClass,
  type SimOutput,
  type SimPreset,
  type SimulatedLineScanOptions,
  simulatedLineScan,
} from './sources/simulated-line-scan.js';
/** The contract of every frame source and its lifecycle states. */
export type { CameraSource, ConnectionIssue, SourceState } from './sources/source-state.js';
