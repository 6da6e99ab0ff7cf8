/** MQTT CONNACK reason codes that the MQTT source and sink both act on. */

/** CONNACK codes of a broker that does not speak the requested protocol version (3.1.1: 1, MQTT 5: 132). */
export const UNSUPPORTED_PROTOCOL: ReadonlySet<number> = new Set([1, 132]);

/** CONNACK codes of refused credentials: 3.1.1 (4, 5) and MQTT 5 (134, 135). */
export const BAD_CREDENTIALS: ReadonlySet<number> = new Set([4, 5, 134, 135]);
