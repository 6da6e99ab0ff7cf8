import type { z } from 'zod';
import { ConfigError, type ConfigIssue } from './config-error.js';

function pathOf(path: readonly PropertyKey[]): string {
  return path.length === 0 ? '(root)' : path.map(String).join('.');
}

/**
 * Validates a plain value against a zod schema; every problem is reported with its dotted path.
 *
 * @throws {@link ConfigError}
 * @example
 * ```ts
 * import { z } from 'zod';
 * const MetricsSchema = z.strictObject({ port: z.number().int().default(9464) });
 * const cfg = validateConfig(MetricsSchema, { port: '9464' }, 'configs/run/demo.yaml');
 * // ConfigError: configs/run/demo.yaml: invalid configuration
 * //   port: Invalid input: expected number, received string
 * ```
 */
export function validateConfig<S extends z.ZodType>(schema: S, value: unknown, source: string): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issues: ConfigIssue[] = result.error.issues.map((issue) => ({
    path: pathOf(issue.path),
    message: issue.message,
  }));
  throw new ConfigError(source, issues, { cause: result.error });
}
