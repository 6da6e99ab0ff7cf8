/**
 * The viewer's optional token. A browser's EventSource cannot send headers, so besides
 * `Authorization: Bearer <token>` the page accepts `?token=<token>` once: it answers with a
 * session cookie (HttpOnly, SameSite=Strict, scoped to the viewer's path) and a redirect to the
 * same page without the token, and the page's assets, API and event stream then carry the cookie.
 * The cookie holds an HMAC of the token, not the token itself.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BearerToken, challenge } from '../http/bearer-token.js';

/** Name of the viewer's session cookie. */
export const VIEWER_COOKIE = 'cubestream_viewer';

/** Label of the HMAC the cookie carries (changing it logs every browser out). */
const COOKIE_LABEL = 'cubestream viewer session v1';

/** The value of cookie `name` in a `Cookie` header, if present. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Checks viewer requests against a token.
 *
 * @example
 * ```ts
 * import http from 'node:http';
 * const auth = new ViewerAuth(process.env.CUBESTREAM_VIEWER_TOKEN ?? '', '/viewer');
 * http.createServer((req, res) => {
 *   const url = new URL(req.url ?? '/', 'http://localhost');
 *   if (!auth.admit(req, res, url, url.pathname === '/viewer/')) return; // 401 or the cookie-setting redirect was sent
 *   res.end('ok');
 * });
 * ```
 */
export class ViewerAuth {
  private readonly token: BearerToken;
  private readonly cookie: BearerToken;
  private readonly cookieValue: string;
  private readonly basePath: string;

  /**
   * @param token - the secret
   * @param basePath - the viewer's URL prefix (the cookie's `Path`)
   */
  constructor(token: string, basePath: string) {
    this.token = new BearerToken(token);
    this.cookieValue = this.token.derive(COOKIE_LABEL);
    this.cookie = new BearerToken(this.cookieValue);
    this.basePath = basePath;
  }

  /**
   * Returns true when the request may go on (bearer header or session cookie). Otherwise answers
   * it and returns false: for the page with a valid `?token=`, 303 to the page without it plus
   * the session cookie; else 401 with `WWW-Authenticate: Bearer`.
   */
  admit(req: IncomingMessage, res: ServerResponse, url: URL, isPage: boolean): boolean {
    if (this.token.authorizes(req)) return true;
    if (this.cookie.matches(cookieValue(req.headers.cookie, VIEWER_COOKIE))) return true;
    const offered = url.searchParams.get('token');
    if (isPage && offered !== null && this.token.matches(offered)) {
      const target = new URL(url.href);
      target.searchParams.delete('token');
      res.writeHead(303, {
        location: `${target.pathname}${target.search}`,
        'set-cookie': `${VIEWER_COOKIE}=${this.cookieValue}; Path=${this.basePath}; HttpOnly; SameSite=Strict`,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      });
      res.end();
      return false;
    }
    challenge(
      res,
      'cubestream viewer',
      `open ${this.basePath}/?token=<token> once, or send Authorization: Bearer <token>`,
    );
    return false;
  }
}
