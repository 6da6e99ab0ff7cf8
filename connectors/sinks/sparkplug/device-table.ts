/**
 * The devices (one per camera) of the edge node and the current value of each of their metrics.
 * Sparkplug is state-based: a BIRTH carries every metric's current value, so values are kept
 * here whether or not the node is born, and a rebirth after a reconnect reports the latest state
 * instead of replaying stale DATA. The table is bounded (`maxCameras`).
 */
import { DEVICE_METRICS, type DeviceMetricName, deviceAlias, type MetricValue } from './metrics.js';

/** A metric's current value and its timestamp (epoch ms). */
export interface MetricSample {
  readonly value: MetricValue;
  readonly timestamp: number;
}

/** One device: its number (for aliases), its metric values, and whether it is born in this session. */
export class SparkplugDevice {
  /** True once its DBIRTH went out in the current node session (reset by every NBIRTH). */
  born = false;
  private readonly samples = new Map<DeviceMetricName, MetricSample>();

  /**
   * @param id - device id (the camera id)
   * @param index - device number, 0-based, fixed for the process's lifetime
   * @param createdAt - timestamp of the initial values
   */
  constructor(
    readonly id: string,
    readonly index: number,
    createdAt: number,
  ) {
    for (const metric of DEVICE_METRICS) this.samples.set(metric.name, { value: null, timestamp: createdAt });
    this.samples.set('Status', { value: 'online', timestamp: createdAt });
  }

  /** Sets a metric's current value. */
  set(name: DeviceMetricName, value: MetricValue, timestamp: number): void {
    this.samples.set(name, { value, timestamp });
  }

  /** A metric's current value (null when never set). */
  get(name: DeviceMetricName): MetricSample {
    return this.samples.get(name) ?? { value: null, timestamp: 0 };
  }

  /** The alias of one of this device's metrics. */
  alias(name: DeviceMetricName): number {
    return deviceAlias(this.index, name);
  }
}

/** The devices, in the order they were added. */
export class DeviceTable {
  private readonly devices = new Map<string, SparkplugDevice>();

  /** @param capacity - most devices (`maxCameras`) */
  constructor(private readonly capacity: number) {}

  /** Number of devices. */
  get size(): number {
    return this.devices.size;
  }

  /** The device of a camera, if known. */
  get(id: string): SparkplugDevice | undefined {
    return this.devices.get(id);
  }

  /** The device of a camera, added when new; undefined when the table is full. */
  getOrAdd(id: string, now: number): SparkplugDevice | undefined {
    const existing = this.devices.get(id);
    if (existing !== undefined) return existing;
    if (this.devices.size >= this.capacity) return undefined;
    const device = new SparkplugDevice(id, this.devices.size, now);
    this.devices.set(id, device);
    return device;
  }

  /** Every device, in order. */
  all(): IterableIterator<SparkplugDevice> {
    return this.devices.values();
  }
}
