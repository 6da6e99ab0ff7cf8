import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
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

/** Every file under `dir`, as paths relative to it. */
async function readdirRecursive(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix === '' ? entry.name : `${prefix}/${entry.name}`;
    if (entry.isDirectory()) out.push(...(await readdirRecursive(path.join(dir, entry.name), rel)));
    else out.push(rel);
  }
  return out;
}

/** Runs a shell command (as the Dockerfile's RUN does, with /bin/sh) in `cwd`; resolves with its exit code. */
async function runShell(command: string, cwd: string): Promise<{ code: number | null; output: string }> {
  const env = { ...process.env, PATH: `${path.dirname(process.execPath)}:${process.env.PATH ?? ''}` };
  const child = spawn('/bin/sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  return { code, output };
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

  it('build stage: after the prune, keeps only the build platform of the onnxruntime-node binaries', async () => {
    const ins = await dockerfile();
    const runtimeAt = ins.findIndex((i) => i.keyword === 'FROM' && i.args.endsWith('AS runtime'));
    const pruneAt = ins.findIndex((i) => i.keyword === 'RUN' && i.args.includes('npm prune --omit=dev'));
    const trimAt = ins.findIndex((i) => i.keyword === 'RUN' && i.args.includes('onnxruntime-node/bin'));
    expect(pruneAt).toBeGreaterThan(0);
    expect(trimAt, 'a RUN that trims node_modules/onnxruntime-node/bin').toBeGreaterThan(pruneAt);
    expect(trimAt).toBeLessThan(runtimeAt);
    const runtimeCopies = all(ins.slice(runtimeAt), 'COPY');
    expect(runtimeCopies).toContain('--from=build /app/node_modules ./node_modules');

    // Run that RUN for real on a stand-in of the package's bin/ (every platform it ships).
    const dir = await mkdtemp(path.join(os.tmpdir(), 'cubestream-ort-bin-'));
    try {
      const platforms = ['darwin/arm64', 'linux/arm64', 'linux/x64', 'win32/arm64', 'win32/x64'];
      for (const platform of platforms) {
        const folder = path.join(dir, 'node_modules/onnxruntime-node/bin/napi-v6', platform);
        await mkdir(folder, { recursive: true });
        await writeFile(path.join(folder, 'onnxruntime_binding.node'), platform);
        await writeFile(path.join(folder, 'libonnxruntime.so.1'), platform);
      }
      const { code, output } = await runShell(ins[trimAt]?.args ?? 'false', dir);
      expect(code, output).toBe(0);
      const left = (await readdirRecursive(path.join(dir, 'node_modules/onnxruntime-node/bin'))).sort();
      const keep = `napi-v6/linux/${process.arch}`;
      expect(left).toEqual([`${keep}/libonnxruntime.so.1`, `${keep}/onnxruntime_binding.node`]);
      // and it fails the build where the platform has no binaries
      await rm(path.join(dir, 'node_modules/onnxruntime-node/bin', keep), { recursive: true });
      expect((await runShell(ins[trimAt]?.args ?? 'false', dir)).code).not.toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('npm reads no key of its own that it does not know: the onnxruntime skip is an ENV, not an .npmrc line', async () => {
    const npmrc = path.join(repoRoot, '.npmrc');
    const text = existsSync(npmrc) ? await readFile(npmrc, 'utf8') : '';
    expect(text).not.toMatch(/^\s*onnxruntime/m);
    const ins = await dockerfile();
    expect(all(ins, 'COPY').join(' ')).not.toContain('.npmrc');
    // npm 11.19+ skips the download script by package.json's allowScripts, and no install script
    // is left unreviewed (npm would warn about it at every install).
    const pkg = JSON.parse(await readFile(path.join(repoRoot, 'package.json'), 'utf8')) as {
      allowScripts?: Record<string, boolean>;
    };
    expect(pkg.allowScripts?.['onnxruntime-node']).toBe(false);
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
