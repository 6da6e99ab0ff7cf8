import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { CubestreamError } from '../core/errors.js';
import type { ReflectanceReferences } from '../core/reflectance.js';
import { validateConfig } from '../core/validate.js';
import { type EnviCube, readEnviCube, writeEnviCube } from '../io/envi/index.js';

/** The camera and its settings as read back when references were captured (or now, at a run's start). */
export interface ReferenceSettings {
  /** Which camera: Aravis id, vendor, model and serial number. */
  readonly camera: { id: string; vendor: string; model: string; serial: string };
  /** GenICam features read back from the camera, by name (`Width`, `ExposureTime`, `PixelFormat`, …). */
  readonly features: Readonly<Record<string, string | number | boolean>>;
}

/** Dark and white references as stored on disk, with when and how they were taken. */
export interface StoredReferences extends ReflectanceReferences {
  /** When they were captured, ISO 8601. */
  readonly takenAt: string;
  /** Lines averaged into the dark reference. */
  readonly darkLines: number;
  /** Lines averaged into the white reference. */
  readonly whiteLines: number;
  /** Band centres (nm), when the camera's wavelengths were known. */
  readonly wavelengths?: readonly number[];
  /** The camera's settings at capture. */
  readonly settings: ReferenceSettings;
}

/** Schema version of `references.json`; loading refuses any other. */
export const REFERENCES_SCHEMA = 'cubestream.references/1';

/** Files of a references folder. */
export const REFERENCE_FILES = {
  dark: 'dark.hdr',
  white: 'white.hdr',
  meta: 'references.json',
} as const;

const FeatureValueSchema = z.union([z.string(), z.number(), z.boolean()]);

/** `references.json`: everything but the two reference lines. */
const ReferencesMetaSchema = z
  .strictObject({
    schema: z.literal(REFERENCES_SCHEMA),
    width: z.number().int().positive(),
    bands: z.number().int().positive(),
    takenAt: z.iso.datetime({ offset: true }),
    darkLines: z.number().int().positive(),
    whiteLines: z.number().int().positive(),
    wavelengths: z.array(z.number()).optional(),
    settings: z.strictObject({
      camera: z.strictObject({ id: z.string(), vendor: z.string(), model: z.string(), serial: z.string() }),
      features: z.record(z.string(), FeatureValueSchema),
    }),
  })
  .refine((meta) => meta.wavelengths === undefined || meta.wavelengths.length === meta.bands, {
    message: 'must hold one wavelength per band',
    path: ['wavelengths'],
  });

/** A references folder that cannot be used: a missing or malformed file, or lines of the wrong size. */
export class ReferencesFileError extends CubestreamError {
  /** The file at fault. */
  readonly file: string;

  /**
   * @param file - the file at fault
   * @param problem - what is wrong with it
   */
  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super('references', `reflectance references ${file}: ${problem}`, options);
    this.file = file;
  }
}

/**
 * Averages captured lines (each `[width * bands]` BIP float32) into one reference line,
 * accumulating in float64 so thousands of 16-bit lines lose nothing to rounding.
 *
 * @throws {@link ReferencesFileError} when there is no line or a line has another length
 * @example
 * ```ts
 * averageLines([Float32Array.of(10, 20), Float32Array.of(12, 22)], 1, 2); // Float32Array [11, 21]
 * ```
 */
export function averageLines(
  lines: readonly Float32Array[] | Iterable<Float32Array>,
  width: number,
  bands: number,
): Float32Array {
  const size = width * bands;
  const sum = new Float64Array(size);
  let count = 0;
  for (const line of lines) {
    if (line.length !== size) {
      throw new ReferencesFileError(
        `line ${count}`,
        `holds ${line.length} values, expected width*bands = ${width}*${bands} = ${size}`,
      );
    }
    for (let i = 0; i < size; i++) sum[i] = (sum[i] as number) + (line[i] as number);
    count++;
  }
  if (count === 0) throw new ReferencesFileError('lines', 'no line to average');
  const mean = new Float32Array(size);
  for (let i = 0; i < size; i++) mean[i] = (sum[i] as number) / count;
  return mean;
}

/**
 * Writes references into `dir` (created if needed): `dark.hdr` and `white.hdr` (ENVI float32,
 * BIP, 1 line x `width` samples x `bands`, header `cubestream radiometry = counts`, with their
 * data files `dark.img`, `white.img`) and `references.json` (schema, geometry, `takenAt`, line
 * counts, wavelengths, camera settings). `references.json` is removed first and written last,
 * so a folder left half-written by a crash does not load.
 *
 * @throws {@link ReferencesFileError} when a line does not hold `width * bands` values;
 *   ENVI write errors and file system errors as they come
 * @example
 * ```ts
 * declare const refs: StoredReferences; // from cubestream calibrate
 * await saveReferences('calibration/line-3', refs);
 * ```
 */
export async function saveReferences(dir: string, refs: StoredReferences): Promise<void> {
  const { width, bands } = refs;
  for (const name of ['dark', 'white'] as const) {
    if (refs[name].length !== width * bands) {
      throw new ReferencesFileError(
        join(dir, REFERENCE_FILES[name]),
        `${name} holds ${refs[name].length} values, expected width*bands = ${width}*${bands} = ${width * bands}`,
      );
    }
  }
  const metaPath = join(dir, REFERENCE_FILES.meta);
  const meta: z.input<typeof ReferencesMetaSchema> = {
    schema: REFERENCES_SCHEMA,
    width,
    bands,
    takenAt: refs.takenAt,
    darkLines: refs.darkLines,
    whiteLines: refs.whiteLines,
    ...(refs.wavelengths === undefined ? {} : { wavelengths: [...refs.wavelengths] }),
    settings: {
      camera: { ...refs.settings.camera },
      features: { ...refs.settings.features },
    },
  };
  validateConfig(ReferencesMetaSchema, meta, metaPath);
  await mkdir(dir, { recursive: true });
  await rm(metaPath, { force: true });
  for (const name of ['dark', 'white'] as const) {
    await writeEnviCube(
      join(dir, REFERENCE_FILES[name]),
      {
        lines: 1,
        samples: width,
        bands,
        data: refs[name],
        ...(refs.wavelengths === undefined ? {} : { wavelengths: refs.wavelengths }),
      },
      {
        dataType: 4,
        interleave: 'bip',
        radiometry: 'counts',
        description: `cubestream ${name} reference: mean of ${name === 'dark' ? refs.darkLines : refs.whiteLines} lines, taken ${refs.takenAt}`,
      },
    );
  }
  const tmp = `${metaPath}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
  await rename(tmp, metaPath);
}

async function readReferenceLine(file: string, width: number, bands: number): Promise<Float32Array> {
  let cube: EnviCube;
  try {
    cube = await readEnviCube(file);
  } catch (cause) {
    throw new ReferencesFileError(file, (cause as Error).message, { cause });
  }
  if (cube.lines !== 1 || cube.samples !== width || cube.bands !== bands) {
    throw new ReferencesFileError(
      file,
      `is ${cube.lines} line(s) x ${cube.samples} samples x ${cube.bands} bands, expected 1 x ${width} x ${bands} as references.json says`,
    );
  }
  const bad = cube.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) {
    throw new ReferencesFileError(
      file,
      `column ${Math.floor(bad / bands)}, band ${bad % bands} is ${cube.data[bad]}: values must be finite`,
    );
  }
  return cube.data;
}

/**
 * Reads a references folder written by {@link saveReferences}.
 *
 * @throws {@link ReferencesFileError} naming the file that is missing, not JSON, or whose line
 *   has another size than `references.json` says; `ConfigError` for a `references.json` that
 *   does not match its schema (each field named)
 * @example
 * ```ts
 * const refs = await loadReferences('calibration/line-3');
 * refs.width; // 1024
 * ```
 */
export async function loadReferences(dir: string): Promise<StoredReferences> {
  const metaPath = join(dir, REFERENCE_FILES.meta);
  let text: string;
  try {
    text = await readFile(metaPath, 'utf8');
  } catch (cause) {
    throw new ReferencesFileError(
      metaPath,
      `cannot be read (${(cause as Error).message}); take references with cubestream calibrate`,
      { cause },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (cause) {
    throw new ReferencesFileError(metaPath, `is not valid JSON (${(cause as Error).message})`, { cause });
  }
  const meta = validateConfig(ReferencesMetaSchema, raw, metaPath);
  const dark = await readReferenceLine(join(dir, REFERENCE_FILES.dark), meta.width, meta.bands);
  const white = await readReferenceLine(join(dir, REFERENCE_FILES.white), meta.width, meta.bands);
  return {
    width: meta.width,
    bands: meta.bands,
    dark,
    white,
    takenAt: meta.takenAt,
    darkLines: meta.darkLines,
    whiteLines: meta.whiteLines,
    ...(meta.wavelengths === undefined ? {} : { wavelengths: meta.wavelengths }),
    settings: meta.settings,
  };
}

export { type ReferenceWarningOptions, referenceWarnings } from './reference-warnings.js';
