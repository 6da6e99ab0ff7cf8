/**
 * `cubestream run --check`: everything about a run configuration that can be known without
 * starting anything (no broker is reached, no port bound, no camera opened). The schema (file <
 * environment < `--set`), the files it names (model bundle, secret and TLS files, references,
 * wavelength headers, ENVI cubes, output folders), the bundle's weights hash (the loader's own
 * check), the sink options the sinks refuse at start, ports used twice, and the bands of the
 * source against the model's (the check every frame gets, `checkFrameMatchesInput`). Every
 * problem is listed with its configuration path, not only the first.
 */
import { access, constants, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { parseOpcuaSinkOptions } from '../../../connectors/sinks/opcua/opcua-sink-options.js';
import { parseSparkplugConfig } from '../../../connectors/sinks/sparkplug/sparkplug-sink-options.js';
import {
  loadCalibration,
  resolveWavelengths,
} from '../../../connectors/sources/genicam/genicam-source-setup.js';
import { LineBlockBuilder } from '../../../connectors/sources/genicam/line-block-builder.js';
import { resolveSimOptions } from '../../../connectors/sources/simulator/options.js';
import { ConfigError, type ConfigIssue } from '../../core/config-error.js';
import { defined } from '../../core/defined.js';
import { asError } from '../../core/errors.js';
import { bandIndexWavelengths, type Radiometry, type WavelengthUnits } from '../../core/frame.js';
import { FrameBufferPool } from '../../core/frame-buffer-pool.js';
import { OptionError } from '../../core/options.js';
import { listEnviCubes, openEnvi } from '../../io/envi/index.js';
import { type LoadedBundle, loadBundle } from '../../model/bundle.js';
import { checkFrameMatchesInput } from '../../model/input-spec.js';
import { resolveAuthToken } from '../service/auth-token.js';
import {
  type RunConfig,
  RunConfigSchema,
  type SourceConfig,
  SourceConfigSchema,
} from '../service/run-config.js';
import { readSecretFile, SECRET_FILE_FIELDS } from '../service/secret-file.js';
import { requireSourceRuntime } from '../service/sources.js';
import type { EnvOverride } from './env-overrides.js';
import { configIssues, readConfigDocument } from './load-config.js';
import { RUN_CONFIG_ENV } from './run-config-env.js';

/** What {@link checkRunConfig} reads besides the file. */
export interface RunConfigCheckOptions {
  /** `--set key.path=value` overrides, applied last. */
  readonly overrides?: readonly string[];
  /** The environment: `${NAME}` references and `CUBESTREAM_` keys (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

/** A short description of a configuration that passed the check. */
export interface RunConfigSummary {
  /** The source, e.g. `simulated camera cam0, 256 px`. */
  readonly source: string;
  /** The model: version, detector and folder. */
  readonly model: string;
  /** The source's bands against the model's, or when they are checked (broker sources: per frame). */
  readonly bands: string;
  /** One line per sink, e.g. `mqtt mqtt://127.0.0.1:1883`. */
  readonly sinks: readonly string[];
  /** The environment variables applied. */
  readonly env: readonly EnvOverride[];
}

/** The outcome of {@link checkRunConfig}. */
export interface RunConfigCheckResult {
  /** The configuration file checked. */
  readonly file: string;
  /** Every problem, each with its configuration path (or the variable or file at fault). */
  readonly problems: readonly ConfigIssue[];
  /** Worth reading, never a failure (an ignored `CUBESTREAM_` variable). */
  readonly warnings: readonly string[];
  /** Present when there is no problem. */
  readonly summary?: RunConfigSummary;
}

/** What the source delivers, as far as the configuration tells without opening it. */
interface SourceBands {
  /** Where a mismatch is fixed. */
  readonly path: string;
  /** What the frames will carry; absent when only the frames will tell. */
  readonly frames?: readonly FrameSpec[];
  /** Why the bands are not known now (broker sources, a camera without a configured size). */
  readonly later?: string;
}

/** The band layout of a source's frames (what `checkFrameMatchesInput` compares). */
interface FrameSpec {
  /** Names the frames, e.g. a cube's file. */
  readonly label: string;
  readonly bands: number;
  readonly wavelengths: ArrayLike<number>;
  readonly wavelengthUnits: WavelengthUnits;
  readonly radiometry?: Radiometry;
}

type Doc = Record<string, unknown>;

function isRecord(value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A problem at `path` from a thrown error, without repeating the path its message may start with. */
function issueFrom(path: string, error: unknown): ConfigIssue {
  if (error instanceof ConfigError) {
    return {
      path,
      message: `${error.source}: ${error.issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
    };
  }
  const message = asError(error).message;
  return { path, message: message.startsWith(`${path}: `) ? message.slice(path.length + 2) : message };
}

/** A path the service reads: it must be a readable file (or folder, with `folder`). */
async function requireReadable(path: string, file: string, folder = false): Promise<ConfigIssue | undefined> {
  try {
    const info = await stat(file);
    if (folder ? !info.isDirectory() : !info.isFile()) {
      return { path, message: `${file} is not a ${folder ? 'folder' : 'file'}` };
    }
    await access(file, constants.R_OK);
    return undefined;
  } catch (error) {
    return { path, message: `cannot read ${file} (${asError(error).message})` };
  }
}

/** Errors of a path that does not exist (yet): missing, or below a file. */
const MISSING = new Set(['ENOENT', 'ENOTDIR']);

/**
 * A path the service writes (a file, or a folder with `folder`), created with its parents when
 * missing: an existing one must be of the right kind, the nearest existing parent a writable folder.
 */
async function requireWritable(
  path: string,
  target: string,
  folder: boolean,
): Promise<ConfigIssue | undefined> {
  const absolute = resolve(target);
  try {
    const info = await stat(absolute);
    if (folder !== info.isDirectory())
      return { path, message: `${target} is ${folder ? 'not a folder' : 'a folder'}` };
    await access(absolute, constants.W_OK);
    return undefined;
  } catch (error) {
    if (!MISSING.has((error as NodeJS.ErrnoException).code ?? '')) {
      return { path, message: `cannot write ${target} (${asError(error).message})` };
    }
  }
  for (let parent = dirname(absolute); ; parent = dirname(parent)) {
    try {
      const info = await stat(parent);
      if (!info.isDirectory()) return { path, message: `cannot create ${target}: ${parent} is not a folder` };
      await access(parent, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!MISSING.has(code ?? '') || dirname(parent) === parent) {
        return { path, message: `cannot create ${target} (${asError(error).message})` };
      }
    }
  }
}

const SECRET_FILES = new Set<string>(SECRET_FILE_FIELDS.map(([, file]) => file));
/** `*File` keys the service writes, not reads. */
const WRITTEN_FILES = new Set(['bdSeqFile']);

/**
 * Every `*File` value of the document (secrets, TLS, credentials, certificates), read as the
 * service reads it at start: secrets trimmed and non-empty, HTTP tokens long enough.
 */
async function fileFieldIssues(document: unknown, path = ''): Promise<ConfigIssue[]> {
  const issues: ConfigIssue[] = [];
  if (Array.isArray(document)) {
    for (const [index, item] of document.entries())
      issues.push(...(await fileFieldIssues(item, `${path}.${index}`)));
    return issues;
  }
  if (!isRecord(document)) return issues;
  for (const [key, value] of Object.entries(document)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (typeof value !== 'string' || !key.endsWith('File')) {
      issues.push(...(await fileFieldIssues(value, at)));
      continue;
    }
    try {
      if (WRITTEN_FILES.has(key)) {
        const issue = await requireWritable(at, value, false);
        if (issue !== undefined) issues.push(issue);
      } else if (key === 'tokenFile' && (path === 'metrics.auth' || path === 'viewer.auth')) {
        await resolveAuthToken({ tokenFile: value }, path);
      } else if (SECRET_FILES.has(key)) {
        await readSecretFile(value, at);
      } else {
        const issue = await requireReadable(at, value);
        if (issue !== undefined) issues.push(issue);
      }
    } catch (error) {
      issues.push(issueFrom(at, error));
    }
  }
  return issues;
}

/**
 * The folders and files the sinks write (created with their parents when missing): the file
 * sink's `path`, the dead-letter `file`, the OPC UA `pkiDir`, and every sink's `dir` (outbox,
 * capture, ...).
 */
async function outputIssues(sinks: unknown): Promise<ConfigIssue[]> {
  if (!isRecord(sinks)) return [];
  const outputs: [path: string, value: unknown, folder: boolean][] = [];
  for (const [name, section] of Object.entries(sinks)) {
    if (!isRecord(section)) continue;
    if (name === 'file') outputs.push(['sinks.file.path', section.path, false]);
    if (name === 'deadLetter') outputs.push(['sinks.deadLetter.file', section.file, false]);
    if (name === 'opcua') outputs.push(['sinks.opcua.pkiDir', section.pkiDir ?? './pki/opcua', true]);
    if ('dir' in section) outputs.push([`sinks.${name}.dir`, section.dir, true]);
  }
  const issues: ConfigIssue[] = [];
  for (const [path, value, folder] of outputs) {
    if (typeof value !== 'string') continue;
    const issue = await requireWritable(path, value, folder);
    if (issue !== undefined) issues.push(issue);
  }
  return issues;
}

/** The options the OPC UA and Sparkplug sinks refuse when built (beyond the schema). */
function sinkOptionIssues(config: RunConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const sinks: [name: string, parse: () => unknown][] = [];
  if (config.sinks.opcua !== undefined) {
    const opcua = config.sinks.opcua;
    sinks.push(['opcua', () => parseOpcuaSinkOptions(opcua)]);
  }
  if (config.sinks.sparkplug !== undefined) {
    const sparkplug = config.sinks.sparkplug;
    sinks.push(['sparkplug', () => parseSparkplugConfig(sparkplug)]);
  }
  for (const [name, parse] of sinks) {
    try {
      parse();
    } catch (error) {
      const option = error instanceof OptionError ? `.${error.option}` : '';
      issues.push({ path: `sinks.${name}${option}`, message: asError(error).message });
    }
  }
  return issues;
}

/** Two endpoints configured on one port of overlapping interfaces (port 0 picks a free one). */
function portIssues(config: RunConfig): ConfigIssue[] {
  const any = (host: string | undefined): boolean =>
    host === undefined || host === '0.0.0.0' || host === '::' || host === '';
  const endpoints: { path: string; port: number; host: string | undefined }[] = [
    { path: 'metrics.port', port: config.metrics.port, host: config.metrics.host },
  ];
  if (config.viewer.enabled)
    endpoints.push({ path: 'viewer.port', port: config.viewer.port, host: config.viewer.host });
  if (config.sinks.opcua !== undefined) {
    endpoints.push({
      path: 'sinks.opcua.port',
      port: config.sinks.opcua.port,
      host: config.sinks.opcua.host,
    });
  }
  const issues: ConfigIssue[] = [];
  endpoints.forEach((a, i) => {
    for (const b of endpoints.slice(0, i)) {
      if (a.port === 0 || a.port !== b.port) continue;
      if (a.host === b.host || any(a.host) || any(b.host)) {
        issues.push({
          path: a.path,
          message: `port ${a.port} is also ${b.path}: the second could not listen`,
        });
      }
    }
  });
  return issues;
}

/** The source's frames as far as its configuration and files tell (and the problems found on the way). */
async function sourceBands(source: SourceConfig, issues: ConfigIssue[]): Promise<SourceBands | undefined> {
  switch (source.kind) {
    case 'simulated': {
      const { kind: _kind, ...options } = source;
      try {
        const { wavelengths, width } = resolveSimOptions(defined({ ...options }));
        return {
          path: source.bands === undefined ? 'source.preset' : 'source.bands',
          frames: [
            {
              label: `simulated camera ${source.cameraId}, ${width} px`,
              bands: wavelengths.length,
              wavelengths,
              wavelengthUnits: 'nm',
            },
          ],
        };
      } catch (error) {
        issues.push(issueFrom(error instanceof OptionError ? `source.${error.option}` : 'source', error));
        return undefined;
      }
    }
    case 'envi': {
      let cubes: string[];
      try {
        cubes = await listEnviCubes(source.path);
      } catch (error) {
        issues.push(issueFrom('source.path', error));
        return undefined;
      }
      const frames: FrameSpec[] = [];
      for (const cube of cubes) {
        try {
          const reader = await openEnvi(cube);
          try {
            frames.push({
              label: `ENVI cube ${cube}`,
              bands: reader.header.bands,
              wavelengths: reader.wavelengths,
              wavelengthUnits: reader.wavelengthUnits,
              ...(reader.header.radiometry === undefined ? {} : { radiometry: reader.header.radiometry }),
            });
          } finally {
            await reader.close();
          }
        } catch (error) {
          issues.push(issueFrom('source.path', error));
        }
      }
      return { path: 'source.path', frames };
    }
    case 'genicam':
      return genicamBands(source, issues);
    default:
      return {
        path: 'source',
        later: `a ${source.kind} source: each frame's bands are checked against the model's when it arrives`,
      };
  }
}

/**
 * A GenICam camera's bands from its configured image size, wavelengths and references, through
 * the source's own geometry check (`LineBlockBuilder.open`, as at the camera's open).
 */
async function genicamBands(
  source: Extract<SourceConfig, { kind: 'genicam' }>,
  issues: ConfigIssue[],
): Promise<SourceBands | undefined> {
  let wavelengths: Awaited<ReturnType<typeof resolveWavelengths>>;
  let calibration: Awaited<ReturnType<typeof loadCalibration>> | undefined;
  let failed = false;
  try {
    wavelengths = await resolveWavelengths(source.wavelengths);
  } catch (error) {
    issues.push(issueFrom('source.wavelengths.enviHeader', error));
    failed = true;
  }
  if (source.calibration !== undefined) {
    try {
      calibration = await loadCalibration(source.calibration);
    } catch (error) {
      issues.push(issueFrom('source.calibration', error));
      failed = true;
    }
  }
  if (failed) return undefined;
  const radiometry: Radiometry = calibration === undefined ? 'counts' : 'reflectance';
  const { width, height, pixelFormat } = source.features;
  if (width === undefined || height === undefined) {
    const bands = wavelengths?.values.length ?? calibration?.gains.bands;
    if (bands === undefined) {
      return {
        path: 'source.features',
        later: 'the camera tells its bands when it opens (set features.width and height to check them now)',
      };
    }
    return {
      path: 'source',
      frames: [
        {
          label: `genicam camera ${source.camera} (${source.cameraId})`,
          bands,
          wavelengths: wavelengths?.values ?? bandIndexWavelengths(bands),
          wavelengthUnits: wavelengths?.units ?? 'index',
          radiometry,
        },
      ],
    };
  }
  const builder = new LineBlockBuilder({
    cameraId: source.cameraId,
    layout: source.lineLayout,
    blockRows: source.blockRows,
    pool: new FrameBufferPool(),
    ...(wavelengths === undefined ? {} : { wavelengths }),
    ...(calibration === undefined ? {} : { gains: calibration.gains }),
  });
  try {
    const geometry = builder.open({ width, height, pixelFormat: pixelFormat ?? 'Mono16' });
    return {
      path: 'source.features',
      frames: [
        {
          label: `genicam camera ${source.camera} (${source.cameraId}), ${geometry.width} px`,
          bands: geometry.bands,
          wavelengths: wavelengths?.values ?? bandIndexWavelengths(geometry.bands),
          wavelengthUnits: wavelengths?.units ?? 'index',
          radiometry,
        },
      ],
    };
  } catch (error) {
    issues.push(issueFrom('source.features', error));
    return undefined;
  }
}

/** `lo-hi nm` of a wavelength list, or `band indices`. */
function range(wavelengths: ArrayLike<number>, units: WavelengthUnits): string {
  if (units === 'index' || wavelengths.length === 0) return 'band indices';
  const first = wavelengths[0] ?? 0;
  const last = wavelengths[wavelengths.length - 1] ?? 0;
  const nm = (value: number): string => String(Math.round(value * 10) / 10);
  return `${nm(first)}-${nm(last)} nm`;
}

/** A URL for a summary: without its password. */
function shownUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password === '') return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function sourceLine(source: SourceConfig): string {
  switch (source.kind) {
    case 'simulated':
      return `simulated camera ${source.cameraId}, ${source.width} px, preset ${source.preset}`;
    case 'genicam':
      return `genicam camera ${source.camera} as ${source.cameraId}, lineLayout ${source.lineLayout}`;
    case 'envi':
      return `envi replay of ${source.path} as ${source.cameraId}${source.loop ? ', looped' : ''}`;
    case 'mqtt':
      return `mqtt ${shownUrl(source.url)} topic ${source.topic}, cameras ${source.cameraIds.join(', ')}`;
    case 'nats':
      return `nats ${[source.servers].flat().map(shownUrl).join(', ')} subject ${source.subject}, cameras ${source.cameraIds.join(', ')}`;
    case 'jetstream':
      return `jetstream ${[source.servers].flat().map(shownUrl).join(', ')} stream ${source.stream}, cameras ${source.cameraIds.join(', ')}`;
  }
}

function sinkLines(sinks: RunConfig['sinks']): string[] {
  const lines: string[] = [];
  for (const [name, section] of Object.entries(sinks as Record<string, unknown>)) {
    if (name === 'deadLetter' || !isRecord(section)) continue;
    const where =
      typeof section.url === 'string'
        ? shownUrl(section.url)
        : section.servers !== undefined
          ? [section.servers]
              .flat()
              .map((s) => shownUrl(String(s)))
              .join(', ')
          : typeof section.path === 'string'
            ? section.path
            : typeof section.dir === 'string'
              ? section.dir
              : typeof section.port === 'number'
                ? `port ${section.port}`
                : '';
    lines.push(where === '' ? name : `${name} ${where}`);
  }
  const { deadLetter } = sinks;
  const targets = [
    ...deadLetter.targets.filter((target) => sinks[target] !== undefined),
    ...(deadLetter.file === undefined ? [] : [deadLetter.file]),
  ];
  if (targets.length > 0) lines.push(`dead letters to ${targets.join(', ')}`);
  return lines;
}

/** Compares each of the source's frame layouts with the model's input (`checkFrameMatchesInput`). */
function bandIssues(bands: SourceBands, bundle: LoadedBundle): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  for (const frame of bands.frames ?? []) {
    try {
      checkFrameMatchesInput(bundle.manifest.input, {
        bands: frame.bands,
        wavelengths: Float32Array.from(frame.wavelengths),
        wavelengthUnits: frame.wavelengthUnits,
        ...(frame.radiometry === undefined ? {} : { radiometry: frame.radiometry }),
      });
    } catch (error) {
      issues.push({
        path: bands.path,
        message: `${frame.label}: ${frame.bands} bands (${range(frame.wavelengths, frame.wavelengthUnits)}), but model ${bundle.manifest.version} (model.path) does not take them: ${asError(error).message}`,
      });
    }
  }
  return issues;
}

function bandsLine(bands: SourceBands | undefined, bundle: LoadedBundle): string {
  const { input } = bundle.manifest;
  const model = `the model's ${input.bands} (${range(input.wavelengths, input.wavelengthUnits)})`;
  if (bands?.later !== undefined) return `${model}; ${bands.later}`;
  const layouts = [
    ...new Set((bands?.frames ?? []).map((f) => `${f.bands} (${range(f.wavelengths, f.wavelengthUnits)})`)),
  ];
  const frames = bands?.frames?.length ?? 0;
  return `${layouts.join(', ')} from the source${frames > 1 ? ` (${frames} cubes)` : ''} match ${model}`;
}

/**
 * Checks a run configuration without starting anything: see the module comment for what.
 *
 * @param file - the configuration file
 * @example
 * ```ts
 * const result = await checkRunConfig('configs/run/demo.yaml', { overrides: ['metrics.port=9500'] });
 * process.stdout.write(formatRunConfigCheck(result).out); // "config OK: configs/run/demo.yaml\n  source: ..."
 * ```
 */
export async function checkRunConfig(
  file: string,
  options: RunConfigCheckOptions = {},
): Promise<RunConfigCheckResult> {
  let read: Awaited<ReturnType<typeof readConfigDocument>>;
  try {
    read = await readConfigDocument(
      RunConfigSchema,
      file,
      options.overrides ?? [],
      options.env ?? process.env,
      {
        envOverrides: RUN_CONFIG_ENV,
      },
    );
  } catch (error) {
    // An unreadable file, YAML that does not parse, an unset ${NAME}, a malformed --set.
    const issues = error instanceof ConfigError ? error.issues : [issueFrom('(file)', error)];
    return { file, problems: issues, warnings: [] };
  }
  const checked = configIssues(RunConfigSchema, read);
  const problems: ConfigIssue[] = checked.ok ? [] : [...checked.issues];
  const config = checked.ok ? checked.value : checked.partial;
  // With a schema problem the file checks still run, on what the document says.
  const document: unknown = config ?? read.document;
  const doc: Doc = isRecord(document) ? document : {};

  problems.push(...(await fileFieldIssues(doc)), ...(await outputIssues(doc.sinks)));
  if (config !== undefined) problems.push(...sinkOptionIssues(config), ...portIssues(config));

  let bundle: LoadedBundle | undefined;
  const modelPath = isRecord(doc.model) ? doc.model.path : undefined;
  if (typeof modelPath === 'string' && modelPath !== '') {
    try {
      bundle = await loadBundle(resolve(modelPath));
    } catch (error) {
      problems.push(issueFrom('model.path', error));
    }
  }

  const source = config?.source ?? SourceConfigSchema.safeParse(doc.source).data;
  let bands: SourceBands | undefined;
  if (source !== undefined) {
    try {
      await requireSourceRuntime(source);
    } catch (error) {
      problems.push(issueFrom('source.kind', error));
    }
    bands = await sourceBands(source, problems);
    if (bands !== undefined && bundle !== undefined) problems.push(...bandIssues(bands, bundle));
  }

  if (problems.length > 0 || config === undefined || bundle === undefined || source === undefined) {
    if (problems.length === 0) problems.push({ path: '(config)', message: 'could not be checked' });
    return { file, problems, warnings: read.warnings };
  }
  const { manifest } = bundle;
  return {
    file,
    problems,
    warnings: read.warnings,
    summary: {
      source: sourceLine(source),
      model: `${manifest.version} (${manifest.detector}, ${config.model.path}), weights SHA-256 matches model-card.json`,
      bands: bandsLine(bands, bundle),
      sinks: sinkLines(config.sinks),
      env: read.env,
    },
  };
}

/**
 * The report of a check: the summary on `out` when there is no problem, else every problem on
 * `err`; warnings on `err` either way.
 *
 * @example
 * ```ts
 * declare const result: RunConfigCheckResult;
 * const { out, err } = formatRunConfigCheck(result);
 * // err: "configs/run/x.yaml: 2 problems\n  model.path: ...\n  source.width: ...\n"
 * ```
 */
export function formatRunConfigCheck(result: RunConfigCheckResult): { out: string; err: string } {
  const warnings = result.warnings.map((warning) => `warning: ${warning}\n`).join('');
  const { summary } = result;
  if (result.problems.length > 0 || summary === undefined) {
    const count = result.problems.length;
    const lines = result.problems.map((p) => `  ${p.path}: ${p.message}\n`).join('');
    return { out: '', err: `${warnings}${result.file}: ${count} problem${count === 1 ? '' : 's'}\n${lines}` };
  }
  const rows: [string, string][] = [
    ['source', summary.source],
    ['model', summary.model],
    ['bands', summary.bands],
    ...summary.sinks.map((sink, i): [string, string] => [i === 0 ? 'sinks' : '', sink]),
    ...summary.env.map((o, i): [string, string] => [i === 0 ? 'env' : '', `${o.path} from ${o.variable}`]),
  ];
  if (summary.sinks.length === 0) rows.splice(3, 0, ['sinks', 'none']);
  const body = rows
    .map(
      ([key, value]) =>
        `  ${key === '' ? '' : `${key}:`.padEnd(8)}${key === '' ? ' '.repeat(8) : ''}${value}\n`,
    )
    .join('');
  return { out: `config OK: ${result.file}\n${body}`, err: warnings };
}
