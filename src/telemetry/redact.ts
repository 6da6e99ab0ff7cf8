/**
 * Keeps secrets out of logs and error messages: the password in a broker URL
 * (`mqtts://user:pw@host:8883`) is replaced before the URL is logged or put in an error.
 */

/** What a redacted secret reads as. */
export const REDACTED = '***';

/**
 * A URL with its password (and a token given as the only user-info part) replaced by
 * {@link REDACTED}; a URL without credentials is returned as it is. Works on strings that
 * `URL` cannot parse too, and on comma-separated lists of URLs.
 *
 * @example
 * ```ts
 * redactUrl('mqtts://plc:s3cret@broker:8883'); // 'mqtts://plc:***@broker:8883'
 * redactUrl('nats://tok3n@nats:4222');          // 'nats://***@nats:4222'
 * redactUrl('mqtt://broker:1883');              // unchanged
 * ```
 */
export function redactUrl(url: string): string {
  // scheme://userinfo@host: a password after the first ':' of the user-info, or a bare token.
  return url.replace(
    /(\b[A-Za-z][A-Za-z0-9+.-]*:\/\/)([^/@\s,]*)@/g,
    (_match, scheme: string, info: string) => {
      const colon = info.indexOf(':');
      if (colon >= 0) return `${scheme}${info.slice(0, colon)}:${REDACTED}@`;
      return `${scheme}${REDACTED}@`;
    },
  );
}

/**
 * Object keys whose values pino replaces with {@link REDACTED} in every log line, at the top
 * level and up to four levels down (`password`, `config.sinks.mqtt.password`, ...).
 */
export const REDACTED_LOG_PATHS: readonly string[] = ['password', 'pass', 'token', 'authorization'].flatMap(
  (key) => [0, 1, 2, 3, 4].map((depth) => [...Array<string>(depth).fill('*'), key].join('.')),
);
