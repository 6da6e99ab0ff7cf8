/**
 * Tells a TLS failure that retrying cannot mend (the broker's certificate is not trusted, has
 * expired, names another host; the port does not speak TLS) from a broker that is merely down.
 * Such a failure at start stops the service with the reason, as refused credentials do, instead
 * of passing for a connect timeout while decisions queue.
 */

/** Node's (OpenSSL's) codes of certificate checks that fail the same way on every retry. */
const UNTRUSTED_CODES: ReadonlySet<string> = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/**
 * Why `error` is a TLS failure that will not pass by retrying, or undefined when it is not one.
 *
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * import { SinkTlsError } from 'cubestream/connectors';
 * const url = 'mqtts://broker:8883';
 * const client = mqtt.connect(url);
 * client.on('error', (e) => {
 *   const tls = tlsFailure(e);
 *   if (tls !== undefined) logger.error({ err: new SinkTlsError('mqtt', url, tls, { cause: e }) });
 * });
 * ```
 */
export function tlsFailure(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = e.cause, depth += 1) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') continue;
    if (UNTRUSTED_CODES.has(code)) return `${code}: ${e.message}`;
    // e.g. ERR_SSL_WRONG_VERSION_NUMBER: a plain-text port behind a TLS URL
    if (code.startsWith('ERR_SSL_')) return `${code}: ${e.message}`;
  }
  return undefined;
}
