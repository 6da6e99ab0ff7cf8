/**
 * The viewer page's files (src/app/web/assets): where they are, from both `src/` (tsx, vitest) and
 * `dist/src/` (compiled, where tsc does not copy them), and how they are served.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ViewerAssetsNotFoundError } from './viewer-errors.js';

/** Content type per file extension of the assets served. */
export const ASSET_CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
};

/** Names an asset may have: lower-case letters, digits and dashes, one known extension. */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(html|js|css|svg|png|json)$/;

/**
 * Content-Security-Policy sent with the page: everything from this origin only (images may be
 * `data:` URLs), so the page cannot reach anything outside the service even by mistake.
 */
export const VIEWER_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * The folders that may hold the assets, for a module in `moduleDir`: its own `assets/`
 * (running from `src/app/web`), then `<repo>/src/app/web/assets` (running from `dist/src/app/web`).
 */
export function assetsDirCandidates(moduleDir: string): string[] {
  return [path.join(moduleDir, 'assets'), path.resolve(moduleDir, '../../../../src/app/web/assets')];
}

/**
 * The first candidate folder (see {@link assetsDirCandidates}) holding `index.html`.
 *
 * @throws {@link ViewerAssetsNotFoundError} naming the folders tried
 * @example
 * ```ts
 * resolveAssetsDir(); // '/app/src/app/web/assets', from src/app/web or dist/src/app/web alike
 * ```
 */
export function resolveAssetsDir(moduleDir: string = path.dirname(fileURLToPath(import.meta.url))): string {
  const candidates = assetsDirCandidates(moduleDir);
  const found = candidates.find((dir) => existsSync(path.join(dir, 'index.html')));
  if (found === undefined) throw new ViewerAssetsNotFoundError(candidates);
  return found;
}

/** The content type of an asset name, or undefined for a name that is not served. */
export function assetContentType(name: string): string | undefined {
  if (!ASSET_NAME.test(name)) return undefined;
  return ASSET_CONTENT_TYPES[path.extname(name)];
}

/**
 * Answers a request for asset `name` from `dir`: 200 with its content type, or false when the
 * name is not servable or the file does not exist (the caller answers 404).
 */
export async function serveAsset(
  res: ServerResponse,
  dir: string,
  name: string,
  headOnly = false,
): Promise<boolean> {
  const type = assetContentType(name);
  if (type === undefined) return false;
  let body: Buffer;
  try {
    body = await readFile(path.join(dir, name));
  } catch {
    return false;
  }
  const headers: Record<string, string | number> = {
    'content-type': type,
    'content-length': body.length,
    'cache-control': 'no-cache',
    'x-content-type-options': 'nosniff',
  };
  if (name.endsWith('.html')) headers['content-security-policy'] = VIEWER_CSP;
  res.writeHead(200, headers);
  res.end(headOnly ? undefined : body);
  return true;
}
