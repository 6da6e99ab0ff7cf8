import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { RUN_CONFIG_SCHEMA_FILE, renderRunConfigSchema } from '../../../scripts/generate-config-schema.js';
import { REPO_ROOT } from '../../../scripts/generate-wire-schemas.js';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';

const RUN_CONFIGS = readdirSync(path.join(REPO_ROOT, 'configs/run'))
  .filter((name) => name.endsWith('.yaml'))
  .sort()
  .map((name) => `configs/run/${name}`);

function committed(): string {
  return readFileSync(path.join(REPO_ROOT, RUN_CONFIG_SCHEMA_FILE), 'utf8');
}

describe('docs/schemas/run-config.schema.json (npm run docs:schemas)', () => {
  it('is committed as the script writes it from RunConfigSchema now', () => {
    expect(committed(), `${RUN_CONFIG_SCHEMA_FILE} is stale: run npm run docs:schemas`).toBe(
      renderRunConfigSchema(),
    );
  });

  it('describes the configuration as written: every section, defaulted fields optional, no other key', () => {
    const schema = JSON.parse(committed());
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.title).toBe('cubestream run configuration');
    expect(Object.keys(schema.properties)).toEqual(Object.keys(RunConfigSchema.shape));
    expect(schema.required).toEqual(['source', 'model']);
    expect(schema.additionalProperties).toBe(false);
  });

  // Strict, but union types (`"type": ["string", "number"]`) are plain JSON Schema: allowed.
  const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
  const validate = ajv.compile(JSON.parse(committed()));

  it.each(RUN_CONFIGS)('validates %s', (file) => {
    expect(RUN_CONFIGS.length).toBeGreaterThanOrEqual(4);
    const document: unknown = parse(readFileSync(path.join(REPO_ROOT, file), 'utf8'));
    expect(validate(document), ajv.errorsText(validate.errors)).toBe(true);
    // The zod schema agrees.
    expect(RunConfigSchema.safeParse(document).success).toBe(true);
  });

  it('refuses what the loader refuses: an unknown key, a wrong type, an unknown source kind', () => {
    const good = { source: { kind: 'simulated' }, model: { path: 'models/demo' } };
    expect(validate(good), ajv.errorsText(validate.errors)).toBe(true);
    const bad: unknown[] = [
      { ...good, extra: 1 },
      { ...good, metrics: { port: '9464' } },
      { ...good, source: { kind: 'camera' } },
      { ...good, sinks: { mqtt: { url: 'mqtt://x', unknown: true } } },
      { source: { kind: 'simulated' } },
    ];
    for (const document of bad) {
      expect(validate(document), JSON.stringify(document)).toBe(false);
      expect(RunConfigSchema.safeParse(document).success, JSON.stringify(document)).toBe(false);
    }
  });
});
