/**
 * Runs `cubestream <command>` as a child process (`node --import tsx src/app/cli.ts ...`) for the
 * end-to-end tests: collects its stdout (pino JSON lines are parsed), its stderr, and its exit.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

/** The repository root (the child runs there). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** A JSON log line of the child. */
export type LogLine = Record<string, unknown> & { msg?: string; component?: string };

/** A running `cubestream` child. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[];
  /** The stdout lines that were JSON objects (the logs of `run`). */
  readonly logs: LogLine[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first log line matching `predicate`; rejects naming `what` after `timeoutMs` or when the child exits. */
  waitForLog(predicate: (line: LogLine) => boolean, what: string, timeoutMs?: number): Promise<LogLine>;
  /** Exit code and signal, once the child has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts `node --import tsx src/app/cli.ts <args>` in the repository root. */
export function spawnCli(args: readonly string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/app/cli.ts', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const logs: LogLine[] = [];
  let out = '';
  let err = '';
  let partial = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    partial += chunk;
    const parts = partial.split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      lines.push(line);
      if (line.startsWith('{')) {
        try {
          logs.push(JSON.parse(line) as LogLine);
        } catch {
          // not a log line
        }
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    err += chunk;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve({ code, signal });
    });
  });
  return {
    child,
    lines,
    logs,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLog(predicate, what, timeoutMs = 20_000) {
      return new Promise<LogLine>((resolve, reject) => {
        const check = (): void => {
          const found = logs.find(predicate);
          if (found !== undefined) {
            done();
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            done();
            reject(
              new Error(
                `child exited before ${what}; stderr: ${err.slice(-2000)}; stdout: ${out.slice(-2000)}`,
              ),
            );
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stdout: ${out.slice(-2000)}`),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
  };
}

/** A temp folder for one test, and a run config written into it as YAML. */
export interface TempRun {
  readonly dir: string;
  /** Writes `config` as `<name>.yaml` and returns its path. */
  writeConfig(name: string, config: unknown): Promise<string>;
  dispose(): Promise<void>;
}

/** Creates a temp folder under the OS temp dir. */
export async function tempRun(): Promise<TempRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cubestream-e2e-'));
  return {
    dir,
    async writeConfig(name, config) {
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, stringify(config));
      return file;
    },
    dispose: () => rm(dir, { recursive: true, force: true }),
  };
}
