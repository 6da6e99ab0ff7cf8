/** MQTT CONNACK reason codes that the MQTT source and sink both act on. */
import { ErrorWithReasonCode } from 'mqtt';
import { tlsFailure } from './tls-failure.js';

/** CONNACK codes of a broker that does not speak the requested protocol version (3.1.1: 1, MQTT 5: 132). */
export const UNSUPPORTED_PROTOCOL: ReadonlySet<number> = new Set([1, 132]);

/** CONNACK codes of refused credentials: 3.1.1 (4, 5) and MQTT 5 (134, 135). */
const BAD_CREDENTIALS: ReadonlySet<number> = new Set([4, 5, 134, 135]);

/** A connection failure that every retry would meet again. */
export interface PermanentConnectFailure {
  /** `auth`: the broker refused the credentials; `tls`: the handshake cannot succeed. */
  readonly kind: 'auth' | 'tls';
  /** The broker's or TLS stack's reason. */
  readonly detail: string;
}

/**
 * Whether an MQTT client error is one no reconnect mends (refused credentials, an untrusted
 * certificate), and why; undefined for a broker that is merely unreachable.
 *
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * const client = mqtt.connect('mqtt://127.0.0.1:1883');
 * client.on('error', (e) => {
 *   const fatal = mqttConnectFailure(e); // { kind: 'auth' | 'tls', detail }: stop retrying
 *   if (fatal !== undefined) client.end(true);
 * });
 * ```
 */
export function mqttConnectFailure(error: Error): PermanentConnectFailure | undefined {
  if (error instanceof ErrorWithReasonCode && BAD_CREDENTIALS.has(error.code)) {
    return { kind: 'auth', detail: error.message };
  }
  const tls = tlsFailure(error);
  return tls === undefined ? undefined : { kind: 'tls', detail: tls };
}
