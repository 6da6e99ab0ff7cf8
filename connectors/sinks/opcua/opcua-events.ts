/**
 * The event types of the OPC UA sink, both subtypes of `BaseEventType` in the sink's namespace:
 * `AnomalyEventType` (one per anomalous decision) and `EjectEventType` (one per eject command),
 * each with its own properties, and the functions that raise them on a camera object.
 */
import type { Namespace, UAObject, UAObjectType } from 'node-opcua';
import type { Decision } from '../../../src/core/decision.js';
import type { NodeOpcuaModule } from './opcua-server.js';
import type { OpcuaEject } from './opcua-sink-options.js';

/**
 * Severity (OPC UA 1-1000) of an `AnomalyEventType` event: 700, in the "high" band (601-800)
 * of OPC 10000-5 6.4.2, because an anomalous product is on the line.
 */
export const ANOMALY_EVENT_SEVERITY = 700;

/** Severity of an `EjectEventType` event: 500, "medium" (a command, not an alarm). */
export const EJECT_EVENT_SEVERITY = 500;

/** The sink's event types. */
export interface OpcuaEventTypes {
  /** `AnomalyEventType`: `FrameId` (Double), `AnomalousPixels` (UInt32), `BlobCount` (UInt32). */
  readonly anomaly: UAObjectType;
  /** `EjectEventType`: `FrameId` (Double), `BlobId` (String, `<frameId>:<rowOffset>:<index>`), `Valves` (UInt32[]), `FireAt` (Double). */
  readonly eject: UAObjectType;
}

type PropertyType = 'Double' | 'UInt32' | 'String';

function addEventType(
  namespace: Namespace,
  browseName: string,
  properties: ReadonlyArray<readonly [name: string, dataType: PropertyType, array?: true]>,
): UAObjectType {
  // addObjectType, not addEventType: only it takes a nodeId (addEventType hands out i=1000, …).
  const type = namespace.addObjectType({
    browseName,
    nodeId: `s=${browseName}`,
    subtypeOf: 'BaseEventType',
    isAbstract: false,
  });
  for (const [name, dataType, array] of properties) {
    namespace.addVariable({
      propertyOf: type,
      nodeId: `s=${browseName}.${name}`,
      browseName: name,
      dataType,
      modellingRule: 'Mandatory',
      ...(array === true ? { valueRank: 1, arrayDimensions: [0] } : {}),
    });
  }
  return type;
}

/** Adds the event types to the namespace (node ids `s=AnomalyEventType`, `s=EjectEventType`). */
export function addOpcuaEventTypes(namespace: Namespace): OpcuaEventTypes {
  return {
    anomaly: addEventType(namespace, 'AnomalyEventType', [
      ['FrameId', 'Double'],
      ['AnomalousPixels', 'UInt32'],
      ['BlobCount', 'UInt32'],
    ]),
    eject: addEventType(namespace, 'EjectEventType', [
      ['FrameId', 'Double'],
      ['BlobId', 'String'],
      ['Valves', 'UInt32', true],
      ['FireAt', 'Double'],
    ]),
  };
}

/**
 * Raises an `AnomalyEventType` event on the camera object: `Time` = capture time, severity
 * {@link ANOMALY_EVENT_SEVERITY}, message `frame <frameId>: <n> anomalous pixels in <b> blob(s)`.
 */
export function raiseAnomalyEvent(camera: UAObject, type: UAObjectType, decision: Decision): void {
  camera.raiseEvent(type, {
    time: { dataType: 'DateTime', value: new Date(decision.capturedAt) },
    severity: { dataType: 'UInt16', value: ANOMALY_EVENT_SEVERITY },
    message: {
      dataType: 'LocalizedText',
      value: {
        text: `frame ${decision.frameId}: ${decision.anomalousPixels} anomalous pixels in ${decision.blobs.length} blob(s)`,
      },
    },
    frameId: { dataType: 'Double', value: decision.frameId },
    anomalousPixels: { dataType: 'UInt32', value: decision.anomalousPixels },
    blobCount: { dataType: 'UInt32', value: decision.blobs.length },
  });
}

/**
 * Raises an `EjectEventType` event on the camera object: severity {@link EJECT_EVENT_SEVERITY},
 * message `eject frame <frameId> blob <blobId>: valves <v,…> at <fireAt>`.
 */
export function raiseEjectEvent(
  opcua: Pick<NodeOpcuaModule, 'Variant'>,
  camera: UAObject,
  type: UAObjectType,
  eject: OpcuaEject,
): void {
  const valves = new opcua.Variant({
    dataType: 'UInt32',
    arrayType: 'Array',
    value: Uint32Array.from(eject.valves),
  });
  camera.raiseEvent(type, {
    severity: { dataType: 'UInt16', value: EJECT_EVENT_SEVERITY },
    message: {
      dataType: 'LocalizedText',
      value: {
        text: `eject frame ${eject.frameId} blob ${eject.blobId}: valves ${eject.valves.join(',')} at ${eject.fireAt}`,
      },
    },
    frameId: { dataType: 'Double', value: eject.frameId },
    blobId: { dataType: 'String', value: eject.blobId },
    valves,
    fireAt: { dataType: 'Double', value: eject.fireAt },
  });
}
