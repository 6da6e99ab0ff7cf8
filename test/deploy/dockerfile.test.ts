import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTelemetryServer, type TelemetryServer } from '../../src/app/http/http-server.js';
import { createMetrics } from '../../src/telemetry/metrics.js';
import { deployPath, repoRoot } from './deploy-files.js';

/** One Dockerfile instruction, continuation lines joined. */
interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** Parses a Dockerfile into instructions (comments dropped, `\` continuations joined). */
function parseDockerfile(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const space = full.search(/\s/);
    out.push({ keyword: full.slice(0, space).toUpperCase(), args: full.slice(space + 1).trim() });
  }
  return out;
}

async function dockerfile(): Promise<Instruction[]> {
  return parseDockerfile(await readFile(deployPath('Dockerfile'), 'utf8'));
}

function all(instructions: readonly Instruction[], keyword: string): string[] {
  return instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
}

/** The `node -e` one-liner of the HEALTHCHECK instruction. */
function healthcheckScript(instructions: readonly Instruction[]): string {
  const healthcheck = all(instructions, 'HEALTHCHECK')[0] ?? '';
  const exec = JSON.parse(healthcheck.slice(healthcheck.indexOf('CMD ') + 4)) as string[];
  expect(exec.slice(0, 2)).toEqual(['node', '-e']);
  return exec[2] ?? '';
}

/** Runs `node -e script` and resolves with its exit code. */
async function runNode(script: string): Promise<number | null> {
  const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

describe('deploy/Dockerfile', () => {
  it('builds on node:20-bookworm-slim in two stages: npm ci with the onnxruntime skip, then prune', async () => {
    const ins = await dockerfile();
    expect(all(ins, 'ARG')).toContain('NODE_IMAGE=node:20-bookworm-slim');
    const froms = all(ins, 'FROM');
    expect(froms.map((from) => from.replace(/^\$\{NODE_IMAGE\} /, ''))).toEqual(['AS build', 'AS runtime']);
    expect(all(ins, 'ENV').join(' ')).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
    const run = all(ins, 'RUN').join(' && ');
    expect(run).toMatch(/npm ci\b/);
    expect(run).toContain('npm prune --omit=dev');
    expect(run.indexOf('npm ci')).toBeLessThan(run.indexOf('npm prune'));
  });

  it('copies only paths that exist in the repository and are not excluded by .dockerignore', async () => {
    const ins = await dockerfile();
    const ignored = (await readFile(path.join(repoRoot, '.dockerignore'), 'utf8'))
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    for (const must of ['node_modules', 'dist', 'runs', 'test-artifacts', '.git']) {
      expect(ignored, must).toContain(must);
    }
    const fromContext = all(ins, 'COPY').filter((args) => !args.startsWith('--from='));
    const sources = fromContext.flatMap((args) => args.split(/\s+/).slice(0, -1));
    expect(sources).toEqual(expect.arrayContaining(['package.json', 'package-lock.json', 'src', 'bin']));
    for (const source of sources) {
      expect(existsSync(path.join(repoRoot, source)), `${source} exists`).toBe(true);
      expect(ignored, `${source} is ignored`).not.toContain(source);
    }
  });

  it('runtime stage: compiled code, viewer assets, numeric non-root user, ports, entrypoint and command', async () => {
    const ins = await dockerfile();
    const runtime = ins.slice(ins.findIndex((i) => i.keyword === 'FROM' && i.args.endsWith('AS runtime')));
    const copies = all(runtime, 'COPY');
    for (const target of [
      './node_modules',
      './dist',
      './bin',
      './configs',
      './src/app/web/assets',
      './package.json',
    ]) {
      expect(
        copies.some((args) => args.startsWith('--from=build') && args.endsWith(target)),
        target,
      ).toBe(true);
    }
    const user = all(runtime, 'USER').at(-1) ?? '';
    expect(user).toMatch(/^[1-9]\d*:[1-9]\d*$/);
    expect(all(runtime, 'EXPOSE')).toEqual(['9464 8080']);
    expect(JSON.parse(all(runtime, 'ENTRYPOINT')[0] ?? 'null')).toEqual(['node', 'bin/cubestream.js']);
    expect(JSON.parse(all(runtime, 'CMD')[0] ?? 'null')).toEqual([
      'run',
      '--config',
      '/app/configs/run/production.yaml',
    ]);
    expect(existsSync(path.join(repoRoot, 'bin', 'cubestream.js'))).toBe(true);
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(pkg.scripts.prepare, 'npm ci must build dist/').toBeDefined();
  });

  describe('HEALTHCHECK one-liner (run for real with node)', () => {
    let server: TelemetryServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('hits /healthz on 9464 and exits 0 while the service answers, 1 once it is gone', async () => {
      const script = healthcheckScript(await dockerfile());
      expect(script).toContain("'http://127.0.0.1:9464/healthz'");
      server = await startTelemetryServer({
        port: 0,
        host: '127.0.0.1',
        metrics: createMetrics({ defaultMetrics: false }),
        health: () => ({ checks: [{ name: 'model', ok: false }] }),
      });
      const local = script.replace(':9464/', `:${server.port}/`);
      expect(await runNode(local)).toBe(0);
      expect(await runNode(local.replace('/healthz', '/nope'))).toBe(1);
      await server.close();
      server = undefined;
      expect(await runNode(local)).toBe(1);
    });
  });
});
