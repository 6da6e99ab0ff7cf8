/** The `metrics` and `viewer` sections of the run config: defaults, auth and limit checks. */
import { describe, expect, it } from 'vitest';
import { RunConfigSchema } from '../../../src/app/service/run-config.js';
import { DEFAULT_VIEWER_LIMITS } from '../../../src/app/web/viewer-limits.js';
import { ConfigError } from '../../../src/core/config-error.js';
import { validateConfig } from '../../../src/core/validate.js';

const base = { source: { kind: 'simulated' }, model: { path: 'm' } };

function parse(extra: Record<string, unknown>) {
  return validateConfig(RunConfigSchema, { ...base, ...extra }, 'run.yaml');
}

/** The YAML paths a config is rejected for. */
function issues(extra: Record<string, unknown>): string[] {
  try {
    parse(extra);
  } catch (error) {
    if (error instanceof ConfigError) return [...new Set(error.issues.map((issue) => issue.path))].sort();
    throw error;
  }
  return [];
}

describe('metrics and viewer config', () => {
  it('binds loopback by default, without tokens, with the viewer limits of DEFAULT_VIEWER_LIMITS', () => {
    const config = parse({});
    expect(config.metrics).toEqual({ port: 9464, host: '127.0.0.1' });
    expect(config.viewer).toEqual({
      enabled: true,
      port: 8080,
      host: '127.0.0.1',
      maxClients: DEFAULT_VIEWER_LIMITS.maxClients,
      clientBufferBytes: DEFAULT_VIEWER_LIMITS.clientBufferBytes,
      snapshotStrips: DEFAULT_VIEWER_LIMITS.snapshotStrips,
      snapshotBytes: DEFAULT_VIEWER_LIMITS.snapshotBytes,
      maxConnections: DEFAULT_VIEWER_LIMITS.maxConnections,
    });
    expect(parse({ metrics: { host: '0.0.0.0' } }).metrics.host).toBe('0.0.0.0');
  });

  it('takes exactly one of auth.token and auth.tokenFile, and a token of at least 16 characters', () => {
    expect(parse({ metrics: { auth: { tokenFile: '/run/secrets/metrics-token' } } }).metrics.auth).toEqual({
      tokenFile: '/run/secrets/metrics-token',
    });
    expect(parse({ viewer: { auth: { token: 'x'.repeat(16) } } }).viewer.auth).toEqual({
      token: 'x'.repeat(16),
    });
    expect(issues({ metrics: { auth: {} } })).toEqual(['metrics.auth']);
    expect(issues({ viewer: { auth: { token: 'x'.repeat(16), tokenFile: '/t' } } })).toEqual(['viewer.auth']);
    expect(issues({ viewer: { auth: { token: 'short' } } })).toEqual(['viewer.auth.token']);
    expect(issues({ metrics: { auth: { bearer: 'x' } } })).toEqual(['metrics.auth']);
  });

  it('rejects viewer limits out of range, naming the field', () => {
    expect(issues({ viewer: { maxClients: 0 } })).toEqual(['viewer.maxClients']);
    expect(issues({ viewer: { clientBufferBytes: 1024, snapshotBytes: 512 } })).toEqual([
      'viewer.clientBufferBytes',
    ]);
    expect(issues({ viewer: { clientBufferBytes: 1024 * 1024, snapshotBytes: 2 * 1024 * 1024 } })).toEqual([
      'viewer.snapshotBytes',
    ]);
    expect(issues({ viewer: { maxConnections: -1 } })).toEqual(['viewer.maxConnections']);
  });
});
