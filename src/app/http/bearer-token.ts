/**
 * A shared secret checked in constant time: `Authorization: Bearer <token>` on `/metrics` and the
 * viewer, and values derived from it (the viewer's session cookie).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Shortest token accepted (characters): anything shorter is guessable. */
export const MIN_TOKEN_LENGTH = 16;

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/**
 * One token. Comparisons hash both sides to SHA-256 first and compare the digests with
 * `crypto.timingSafeEqual`: equal-length buffers, so neither the content nor the length of the
 * token leaks through timing.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * const token = new BearerToken(process.env.CUBESTREAM_METRICS_TOKEN ?? '');
 * http.createServer((req, res) => {
 *   if (!token.authorizes(req)) return challenge(res, 'cubestream metrics');
 *   res.end('ok');
 * });
 * ```
 */
export class BearerToken {
  private readonly expected: Buffer;
  private readonly secret: string;

  /** @param token - the secret (at least {@link MIN_TOKEN_LENGTH} characters are advised; not checked here) */
  constructor(token: string) {
    this.secret = token;
    this.expected = digest(token);
  }

  /** Whether `candidate` is the token (constant time). */
  matches(candidate: string | undefined): boolean {
    if (candidate === undefined) return false;
    return timingSafeEqual(digest(candidate), this.expected);
  }

  /** Whether the request carries `Authorization: Bearer <token>`. */
  authorizes(req: IncomingMessage): boolean {
    const header = req.headers.authorization;
    if (header === undefined) return false;
    return this.matches(BEARER.exec(header)?.[1]);
  }

  /**
   * A value derived from the token for one purpose (HMAC-SHA256 of `label`, base64url): what a
   * cookie may carry instead of the token itself.
   */
  derive(label: string): string {
    return createHmac('sha256', this.secret).update(label, 'utf8').digest('base64url');
  }
}

/**
 * Answers 401 with `WWW-Authenticate: Bearer realm="<realm>"` and a JSON body saying what to send.
 *
 * @example
 * ```ts
 * import type { ServerResponse } from 'node:http';
 * declare const res: ServerResponse;
 * challenge(res, 'cubestream metrics');
 * // HTTP/1.1 401, www-authenticate: Bearer realm="cubestream metrics"
 * ```
 */
export function challenge(res: ServerResponse, realm: string, hint?: string): void {
  const body = JSON.stringify({
    error: 'unauthorized',
    hint: hint ?? 'send Authorization: Bearer <token>',
  });
  res.writeHead(401, {
    'www-authenticate': `Bearer realm="${realm.replace(/["\\]/g, '')}"`,
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
