import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CubestreamError } from '../../core/errors.js';

/**
 * The path of the nearest `package.json` at or above `dir`, or `undefined` when there is none.
 * From `src/app/cli/` (tsx) and from `dist/src/app/cli/` (compiled) this is the package's own.
 */
function findPackageJson(dir: string): string | undefined {
  for (let current = dir; ; current = path.dirname(current)) {
    const candidate = path.join(current, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}

/** The `version` field of the JSON text `text`, or `undefined` when absent or not a string. */
function versionField(text: string): string | undefined {
  const parsed: unknown = JSON.parse(text);
  if (typeof parsed !== 'object' || parsed === null || !('version' in parsed)) return undefined;
  return typeof parsed.version === 'string' ? parsed.version : undefined;
}

/**
 * The version of cubestream, read at run time from its `package.json` (the nearest one above
 * `moduleDir`, by default this module's folder), so `--version` never drifts from the package.
 *
 * @throws {@link CubestreamError} (`config`) when no `package.json` with a string `version` is found.
 * @example
 * ```ts
 * console.log(`cubestream ${packageVersion()}`); // "cubestream 0.1.0"
 * ```
 */
export function packageVersion(moduleDir: string = path.dirname(fileURLToPath(import.meta.url))): string {
  const file = findPackageJson(moduleDir);
  const version = file === undefined ? undefined : versionField(readFileSync(file, 'utf8'));
  if (version === undefined) {
    throw new CubestreamError('config', `no package.json with a version above ${moduleDir}`);
  }
  return version;
}
