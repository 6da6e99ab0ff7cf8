import { CubestreamError } from './errors.js';

/** One problem in a configuration: where (dotted path) and what. */
export interface ConfigIssue {
  /** Dotted path into the document, e.g. `pipeline.threshold.window`; `(root)` for the whole. */
  path: string;
  message: string;
}

/**
 * A configuration file or value that is invalid. The message lists every problem with its path,
 * one per line, prefixed by the file name.
 *
 * @example
 * ```text
 * configs/run/demo.yaml: invalid configuration
 *   sinks.mqtt.url: expected string, received number
 * ```
 */
export class ConfigError extends CubestreamError {
  readonly issues: readonly ConfigIssue[];
  readonly source: string;

  constructor(source: string, issues: readonly ConfigIssue[], options?: { cause?: unknown }) {
    const lines = issues.map((i) => `  ${i.path}: ${i.message}`).join('\n');
    super('config', `${source}: invalid configuration\n${lines}`, options);
    this.source = source;
    this.issues = issues;
  }
}
