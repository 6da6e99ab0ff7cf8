/**
 * The one table of the Sparkplug metrics the edge node publishes: names, Sparkplug data types
 * and aliases (docs/sparkplug.md §2 prints the same table). Each camera is a device; every
 * device carries the same {@link DEVICE_METRICS}; the node itself carries only
 * {@link NODE_METRICS}.
 *
 * Aliases are unique per edge node (SP6 l.462-471): device number `k` (0-based, in the order the
 * devices were first born) uses `ALIAS_STRIDE * (k + 1) + offset`, e.g. `Anomalous` of the first
 * device is alias 101, of the second 201. The node metrics have no alias (`Node Control/Rebirth`
 * must not have one; `bdSeq` appears only in NBIRTH/NDEATH, always by name).
 */

/** The Sparkplug B data types this edge node uses (SP6 l.134-180). */
export type SparkplugDataType = 'Boolean' | 'UInt32' | 'UInt64' | 'Int64' | 'Double' | 'String' | 'DateTime';

/** A metric value as held and encoded; null is sent as `is_null` (no value yet). */
export type MetricValue = boolean | number | string | null;

/** One row of the metric table. */
export interface MetricDefinition {
  /** Metric name, as in BIRTH messages (`/` makes folders in Ignition). */
  readonly name: string;
  readonly type: SparkplugDataType;
  /** Alias offset within a device's block of {@link ALIAS_STRIDE} aliases. */
  readonly offset: number;
  /** What it holds (docs/sparkplug.md repeats it). */
  readonly description: string;
}

/** Aliases reserved per device: device `k` uses `ALIAS_STRIDE * (k + 1) + offset`. */
export const ALIAS_STRIDE = 100;

/** The metrics of every device (camera), in BIRTH order. */
export const DEVICE_METRICS = [
  { name: 'Anomalous', type: 'Boolean', offset: 1, description: 'Verdict of the last decision' },
  { name: 'AnomalousPixels', type: 'UInt32', offset: 2, description: 'Pixels with score >= threshold' },
  { name: 'FrameId', type: 'UInt64', offset: 3, description: 'Frame number of the last decision' },
  {
    name: 'Threshold',
    type: 'Double',
    offset: 4,
    description: 'Threshold τ applied (decision or status update)',
  },
  {
    name: 'CenterDrift',
    type: 'Double',
    offset: 5,
    description: 'Drift of the hypersphere centre (status update)',
  },
  {
    name: 'ModelVersion',
    type: 'String',
    offset: 6,
    description: 'Model bundle version that scored the frame',
  },
  {
    name: 'Status',
    type: 'String',
    offset: 7,
    description: '`online`, or `offline` while the camera source is lost',
  },
  {
    name: 'BlobCount',
    type: 'UInt32',
    offset: 8,
    description: 'Blobs (connected anomalous regions) in the decision',
  },
  { name: 'MaxScore', type: 'Double', offset: 9, description: 'Highest pixel score' },
  {
    name: 'LastDecisionTime',
    type: 'DateTime',
    offset: 10,
    description: 'When the last decision was made (decidedAt)',
  },
  {
    name: 'Heartbeat',
    type: 'UInt32',
    offset: 11,
    description: 'Incremented every second while the service runs',
  },
  { name: 'Eject/FrameId', type: 'UInt64', offset: 12, description: 'Frame of the last eject command' },
  {
    name: 'Eject/BlobId',
    type: 'String',
    offset: 13,
    description: 'Blob of the last eject command, `<frameId>:<rowOffset>:<index>`',
  },
  {
    name: 'Eject/Valves',
    type: 'String',
    offset: 14,
    description: 'Valves to fire, comma-separated, e.g. `3,4,5`',
  },
  { name: 'Eject/FireAt', type: 'UInt64', offset: 15, description: 'When to fire: epoch ms or encoder line' },
  { name: 'Eject/Count', type: 'UInt32', offset: 16, description: 'Eject commands sent for this camera' },
  {
    name: 'Verdict',
    type: 'String',
    offset: 17,
    description:
      '`normal`, `anomalous`, or `unknown` for a block that could not be decided (Anomalous is then true)',
  },
] as const satisfies readonly MetricDefinition[];

/** The name of a device metric. */
export type DeviceMetricName = (typeof DEVICE_METRICS)[number]['name'];

/** The node metric names (no alias). */
export const NODE_METRICS = {
  bdSeq: {
    name: 'bdSeq',
    type: 'Int64',
    description: 'Birth/death sequence of the MQTT session (NBIRTH, NDEATH)',
  },
  rebirth: {
    name: 'Node Control/Rebirth',
    type: 'Boolean',
    description: 'false in NBIRTH; a host writes true (NCMD) to ask for a rebirth',
  },
} as const;

const BY_NAME: ReadonlyMap<string, MetricDefinition> = new Map(DEVICE_METRICS.map((m) => [m.name, m]));

/** The table row of a device metric. */
export function deviceMetric(name: DeviceMetricName): MetricDefinition {
  const definition = BY_NAME.get(name);
  if (definition === undefined) throw new Error(`unknown Sparkplug device metric ${name}`);
  return definition;
}

/**
 * The alias of a device metric, unique per edge node.
 *
 * @param deviceIndex - the device's number, 0-based
 * @example
 * ```ts
 * deviceAlias(0, 'Anomalous'); // 101
 * deviceAlias(2, 'Heartbeat'); // 311
 * ```
 */
export function deviceAlias(deviceIndex: number, name: DeviceMetricName): number {
  return ALIAS_STRIDE * (deviceIndex + 1) + deviceMetric(name).offset;
}
