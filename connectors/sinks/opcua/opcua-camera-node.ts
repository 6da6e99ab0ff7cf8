/**
 * One camera in the OPC UA address space: the object `Objects/Cameras/<cameraId>` (node id
 * `s=Cameras.<cameraId>`, an event notifier) and its read-only variables
 * (`s=Cameras.<cameraId>.<Variable>`, see {@link CAMERA_VARIABLES}).
 */
import type { Namespace, UAObject, UAVariable } from 'node-opcua';
import { type Decision, verdictOf } from '../../../src/core/decision.js';
import type { NodeOpcuaModule } from './opcua-server.js';

/**
 * The variables of a camera object and their OPC UA data types.
 *
 * - `Anomalous` (Boolean), `AnomalousPixels` (UInt32), `BlobCount` (UInt32): the last decision.
 * - `FrameId` (Double): the last decision's frame id. A Double holds every integer up to 2^53
 *   exactly (the decision's JSON number), where a UInt32 would wrap after 2^32 frames (50 days
 *   at 1000 frames/s); a PLC reads it as LREAL.
 * - `Threshold` (Double): τ of the last decision or status update; `CenterDrift` (Double): from
 *   status updates.
 * - `ModelVersion` (String); `Status` (String): `unknown` until the first decision or status
 *   update, then `online` or `offline`.
 * - `LastDecisionTime` (DateTime): the last decision's `decidedAt`.
 * - `Heartbeat` (UInt32): +1 every `heartbeatMs` while the sink runs (wraps at 2^32), for a PLC
 *   watchdog.
 * - `Verdict` (String): `normal`, `anomalous`, or `unknown` for a block that could not be decided
 *   (rejected, dropped); `Anomalous` is then true, so a PLC reading only it diverts the product.
 *
 * Source timestamps are the decision's capture time (`capturedAt`), or the time of the status
 * update or heartbeat. Before their first value the decision variables, `Threshold`,
 * `CenterDrift` and (without a model version) `ModelVersion` have status `BadWaitingForInitialData`.
 */
export const CAMERA_VARIABLES = {
  Anomalous: 'Boolean',
  AnomalousPixels: 'UInt32',
  FrameId: 'Double',
  Threshold: 'Double',
  CenterDrift: 'Double',
  ModelVersion: 'String',
  Status: 'String',
  BlobCount: 'UInt32',
  LastDecisionTime: 'DateTime',
  Heartbeat: 'UInt32',
  Verdict: 'String',
} as const;

/** The browse name of a camera variable. */
export type CameraVariable = keyof typeof CAMERA_VARIABLES;

/** The value of a camera's `Status` variable. */
export type CameraStatus = 'online' | 'offline' | 'unknown';

type VariableValue = boolean | number | string | Date;

const INITIAL_VALUES: Record<CameraVariable, VariableValue> = {
  Anomalous: false,
  AnomalousPixels: 0,
  FrameId: 0,
  Threshold: 0,
  CenterDrift: 0,
  ModelVersion: '',
  Status: 'unknown',
  BlobCount: 0,
  LastDecisionTime: new Date(0),
  Heartbeat: 0,
  Verdict: '',
};

/** The string node id (without namespace) of a camera object, or of one of its variables. */
export function cameraNodeId(cameraId: string, variable?: CameraVariable): string {
  return variable === undefined ? `Cameras.${cameraId}` : `Cameras.${cameraId}.${variable}`;
}

/** A camera's object and variables, and the updates the sink makes to them. */
export class OpcuaCameraNode {
  /** The camera object (an event notifier: events are raised on it). */
  readonly object: UAObject;
  private readonly variables: Record<CameraVariable, UAVariable>;
  private status: CameraStatus = 'unknown';

  /**
   * @param opcua - the node-opcua module (status codes)
   * @param namespace - the sink's namespace
   * @param folder - the `Cameras` folder
   * @param cameraId - the camera (a valid camera id)
   * @param modelVersion - initial `ModelVersion`, if known
   */
  constructor(
    private readonly opcua: Pick<NodeOpcuaModule, 'StatusCodes'>,
    namespace: Namespace,
    folder: UAObject,
    readonly cameraId: string,
    modelVersion: string | undefined,
  ) {
    this.object = namespace.addObject({
      organizedBy: folder,
      nodeId: `s=${cameraNodeId(cameraId)}`,
      browseName: cameraId,
      eventNotifier: 1,
    });
    const variables: Partial<Record<CameraVariable, UAVariable>> = {};
    for (const [name, dataType] of Object.entries(CAMERA_VARIABLES) as [CameraVariable, string][]) {
      variables[name] = namespace.addVariable({
        componentOf: this.object,
        nodeId: `s=${cameraNodeId(cameraId, name)}`,
        browseName: name,
        dataType,
        accessLevel: 'CurrentRead',
        userAccessLevel: 'CurrentRead',
        minimumSamplingInterval: 0,
        value: { dataType, value: INITIAL_VALUES[name] },
      });
    }
    this.variables = variables as Record<CameraVariable, UAVariable>;
    const now = new Date();
    const waiting = opcua.StatusCodes.BadWaitingForInitialData;
    for (const name of Object.keys(CAMERA_VARIABLES) as CameraVariable[]) {
      if (name === 'Status' || name === 'Heartbeat') this.set(name, INITIAL_VALUES[name], now);
      else this.set(name, INITIAL_VALUES[name], now, waiting);
    }
    if (modelVersion !== undefined) this.set('ModelVersion', modelVersion, now);
  }

  /** The camera's `Status`. */
  get state(): CameraStatus {
    return this.status;
  }

  /** Sets every decision variable from `decision` (source timestamp: its capture time). */
  update(decision: Decision): void {
    const at = new Date(decision.capturedAt);
    this.set('FrameId', decision.frameId, at);
    this.set('AnomalousPixels', decision.anomalousPixels, at);
    this.set('BlobCount', decision.blobs.length, at);
    this.set('Threshold', decision.threshold, at);
    this.set('ModelVersion', decision.modelVersion, at);
    this.set('LastDecisionTime', new Date(decision.decidedAt), at);
    this.set('Verdict', verdictOf(decision), at);
    // Last, so that a client notified of Anomalous reads the matching frame id and pixel count.
    this.set('Anomalous', decision.anomalous, at);
    if (this.status === 'unknown') this.setStatus('online');
  }

  /** Sets `Threshold`. */
  setThreshold(threshold: number, at = new Date()): void {
    this.set('Threshold', threshold, at);
  }

  /** Sets `CenterDrift`. */
  setCenterDrift(drift: number, at = new Date()): void {
    this.set('CenterDrift', drift, at);
  }

  /** Sets `ModelVersion` (a hot model reload; each decision sets it too). */
  setModelVersion(version: string, at = new Date()): void {
    this.set('ModelVersion', version, at);
  }

  /** Sets `Status`. */
  setStatus(status: CameraStatus, at = new Date()): void {
    this.status = status;
    this.set('Status', status, at);
  }

  /** Sets `Heartbeat` to `count` modulo 2^32. */
  setHeartbeat(count: number, at = new Date()): void {
    this.set('Heartbeat', count % 2 ** 32, at);
  }

  private set(
    name: CameraVariable,
    value: VariableValue,
    at: Date,
    status = this.opcua.StatusCodes.Good,
  ): void {
    this.variables[name].setValueFromSource({ dataType: CAMERA_VARIABLES[name], value }, status, at);
  }
}
