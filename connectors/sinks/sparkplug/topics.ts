/**
 * Sparkplug B 3.0 ids and topics (SP4 l.60-135): `spBv1.0/<group>/<type>/<edge>[/<device>]` and
 * the primary host's `spBv1.0/STATE/<host>`. An id is a non-empty UTF-8 string without `+`, `/`
 * or `#` (and without NUL, which MQTT forbids in topics).
 *
 * @example
 * ```ts
 * nodeTopic({ groupId: 'hsi', edgeNodeId: 'line1' }, 'NBIRTH'); // 'spBv1.0/hsi/NBIRTH/line1'
 * deviceTopic({ groupId: 'hsi', edgeNodeId: 'line1' }, 'DDATA', 'cam0'); // 'spBv1.0/hsi/DDATA/line1/cam0'
 * hostStateTopic('scada'); // 'spBv1.0/STATE/scada'
 * ```
 */

/** The Sparkplug B namespace, first level of every topic. */
export const SPARKPLUG_NAMESPACE = 'spBv1.0';

/** What {@link isSparkplugId} accepts, for error messages. */
export const SPARKPLUG_ID_RULE = 'must be a non-empty UTF-8 string without "+", "/", "#" or NUL';

/** Message types of an edge node. */
export type NodeMessageType = 'NBIRTH' | 'NDEATH' | 'NDATA' | 'NCMD';

/** Message types of a device. */
export type DeviceMessageType = 'DBIRTH' | 'DDEATH' | 'DDATA' | 'DCMD';

/** The ids naming an edge node. */
export interface EdgeNodeIds {
  readonly groupId: string;
  readonly edgeNodeId: string;
}

/** A lone surrogate cannot be encoded as UTF-8; `+ / #` are MQTT separators and wildcards. */
const FORBIDDEN = /[+/#\0]|\p{Cs}/u;

/**
 * Whether `value` is usable as a Sparkplug group, edge node, device or host id.
 *
 * @example
 * ```ts
 * isSparkplugId('Line 1 (Zürich)'); // true
 * isSparkplugId('line/1');           // false
 * ```
 */
export function isSparkplugId(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !FORBIDDEN.test(value);
}

/** `spBv1.0/<group>/<type>/<edge>`. */
export function nodeTopic(ids: EdgeNodeIds, type: NodeMessageType): string {
  return `${SPARKPLUG_NAMESPACE}/${ids.groupId}/${type}/${ids.edgeNodeId}`;
}

/** `spBv1.0/<group>/<type>/<edge>/<device>`; `+` as the device subscribes to every device. */
export function deviceTopic(ids: EdgeNodeIds, type: DeviceMessageType, deviceId: string): string {
  return `${SPARKPLUG_NAMESPACE}/${ids.groupId}/${type}/${ids.edgeNodeId}/${deviceId}`;
}

/** `spBv1.0/STATE/<host>`: where a Sparkplug 3.0 primary host publishes its retained birth and will. */
export function hostStateTopic(hostId: string): string {
  return `${SPARKPLUG_NAMESPACE}/STATE/${hostId}`;
}
