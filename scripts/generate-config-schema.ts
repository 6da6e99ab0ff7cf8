/**
 * Writes the JSON Schema of the run configuration (`npm run docs:schemas`):
 * docs/schemas/run-config.schema.json, generated from `RunConfigSchema`
 * (src/app/service/run-config.ts) with `z.toJSONSchema` (draft 2020-12, the input side: a field
 * with a default may be left out, as in configs/run/*.yaml) and formatted by biome, so that the
 * committed file passes `npm run lint` as written. Editors complete and check a config with it
 * (docs/configuration.md: `# yaml-language-server: $schema=...`).
 * test/app/config/run-config-schema.test.ts fails when the committed file differs from what this
 * writes, and validates every configs/run/*.yaml against it.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { RunConfigSchema } from '../src/app/service/run-config.js';
import { biomeFormat, REPO_ROOT } from './generate-wire-schemas.js';

/** The generated file, relative to the repository root. */
export const RUN_CONFIG_SCHEMA_FILE = 'docs/schemas/run-config.schema.json';

/**
 * The JSON Schema (draft 2020-12) of a configuration as written, with a title and description
 * first: deterministic (the zod schema's key order), no date, no absolute path.
 */
export function configJsonSchema(
  schema: z.ZodType,
  title: string,
  description: string,
): Record<string, unknown> {
  const { $schema, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
  return { $schema, title, description, ...rest };
}

/**
 * The text of docs/schemas/run-config.schema.json exactly as the script writes it.
 *
 * @example
 * ```ts
 * const text = renderRunConfigSchema();
 * JSON.parse(text).title; // 'cubestream run configuration'
 * ```
 */
export function renderRunConfigSchema(): string {
  const json = configJsonSchema(
    RunConfigSchema,
    'cubestream run configuration',
    'The configuration of `cubestream run --config FILE` (configs/run/*.yaml) as written: a field with a ' +
      'default may be left out. Generated from RunConfigSchema (src/app/service/run-config.ts) by ' +
      '`npm run docs:schemas`; do not edit. docs/configuration.md describes the file, the CUBESTREAM_ ' +
      'environment variables and --set; configs/run/production.yaml documents every field.',
  );
  return biomeFormat(`${JSON.stringify(json, null, 2)}\n`, RUN_CONFIG_SCHEMA_FILE);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const target = path.join(REPO_ROOT, RUN_CONFIG_SCHEMA_FILE);
  mkdirSync(path.dirname(target), { recursive: true });
  writeFileSync(target, renderRunConfigSchema());
  console.log(`wrote ${RUN_CONFIG_SCHEMA_FILE}`);
}
