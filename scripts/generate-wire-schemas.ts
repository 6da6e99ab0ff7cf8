/**
 * Writes the JSON Schemas of cubestream's wire messages (`npm run docs:schemas`), generated from
 * their zod schemas with `z.toJSONSchema` (draft 2020-12) and formatted by biome, so that the
 * committed files pass `npm run lint` as written. Today that is the decision message
 * (`decisionSchema`, src/core/decision.ts) -> docs/schemas/decision.schema.json; the status and
 * dead-letter messages have no zod schema and are described in docs/asyncapi.yaml.
 * test/docs/wire-schemas.test.ts fails when a committed file differs from what this writes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import { decisionSchema } from '../src/core/decision.js';

/** The repository root (this script lives in `scripts/`). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Each generated file, relative to the repository root, and the zod schema it is generated from. */
export const WIRE_SCHEMAS: Readonly<Record<string, z.ZodType>> = {
  'docs/schemas/decision.schema.json': decisionSchema,
};

/** The JSON Schema (draft 2020-12) of a zod schema, as a plain object. */
export function wireJsonSchema(schema: z.ZodType): Record<string, unknown> {
  return z.toJSONSchema(schema, { target: 'draft-2020-12' }) as Record<string, unknown>;
}

/** Formats JSON text as `biome format` would for a file at `file` (repository-relative). */
export function biomeFormat(text: string, file: string): string {
  const biome = path.join(REPO_ROOT, 'node_modules', '.bin', 'biome');
  return execFileSync(biome, ['format', `--stdin-file-path=${file}`], {
    cwd: REPO_ROOT,
    input: text,
    encoding: 'utf8',
  });
}

/**
 * The text of every generated file, keyed by repository-relative path, exactly as the script
 * writes it.
 *
 * @example
 * ```ts
 * const texts = renderWireSchemas();
 * texts.get('docs/schemas/decision.schema.json'); // '{\n  "$schema": …'
 * ```
 */
export function renderWireSchemas(): Map<string, string> {
  const texts = new Map<string, string>();
  for (const [file, schema] of Object.entries(WIRE_SCHEMAS)) {
    texts.set(file, biomeFormat(`${JSON.stringify(wireJsonSchema(schema), null, 2)}\n`, file));
  }
  return texts;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const [file, text] of renderWireSchemas()) {
    const target = path.join(REPO_ROOT, file);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
    console.log(`wrote ${file}`);
  }
}
