import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  createLineScanSimulator,
  isSimAnomaly,
  SIM_ANOMALY_CLASS_IDS,
  SIM_CLASSES,
  SIM_NORMAL_CLASS_IDS,
  SIM_PRESETS,
  type SimOutput,
  type SimPreset,
} from '../../../../connectors/sources/simulated-line-scan.js';
import { createEnviWriter, type EnviInterleave, type EnviWriter } from '../../../io/envi/index.js';
import { type CliCommand, type CliValues, numberOption, stringOption, UsageError } from '../command.js';

/** Data types `simulate` writes: float32 (ENVI 4) or uint16 (ENVI 12, whole DN). */
const DATA_TYPES = { f32: 4, u16: 12 } as const;

/** Lines simulated per step while writing a frame (bounds memory for tall frames). */
const BLOCK_ROWS = 64;

function choice<T extends string>(values: CliValues, name: string, allowed: readonly T[], fallback: T): T {
  const raw = stringOption(values, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

/** The parsed command line of `simulate`. */
interface SimulateArgs {
  out: string;
  frames: number;
  seed: number;
  width: number;
  lines: number;
  preset: SimPreset;
  anomalyRate: number;
  coverage: number;
  dataType: keyof typeof DATA_TYPES;
  interleave: EnviInterleave;
  output: SimOutput;
}

function parseArgs(values: CliValues): SimulateArgs {
  const args: SimulateArgs = {
    out: stringOption(values, 'out', true),
    frames: numberOption(values, 'frames', Number.NaN, { min: 1, max: 1_000_000, integer: true }),
    seed: numberOption(values, 'seed', 1, { min: 0, max: 2 ** 32 - 1, integer: true }),
    width: numberOption(values, 'width', 256, { min: 1, max: 16_384, integer: true }),
    lines: numberOption(values, 'lines', 256, { min: 1, max: 1_000_000, integer: true }),
    preset: choice(values, 'preset', SIM_PRESETS, 'default'),
    anomalyRate: numberOption(values, 'anomaly-rate', 0.02, { min: 0, max: 1 }),
    coverage: numberOption(values, 'coverage', 0.5, { min: 0, max: 0.95 }),
    dataType: choice(values, 'data-type', ['u16', 'f32'] as const, 'u16'),
    interleave: choice(values, 'interleave', ['bil', 'bip', 'bsq'] as const, 'bil'),
    output: choice(values, 'output', ['dn', 'reflectance'] as const, 'dn'),
  };
  if (args.out.trim() === '') throw new UsageError('--out must name a folder');
  if (Number.isNaN(args.frames)) throw new UsageError('missing required option --frames');
  if (args.output === 'reflectance' && args.dataType !== 'f32') {
    throw new UsageError('--output reflectance needs --data-type f32 (uint16 would round it away)');
  }
  return args;
}

/** Manifest entry of one written frame. */
interface ManifestFrame {
  name: string;
  cube: string;
  mask: string;
  pixels: number;
  anomalyPixels: number;
}

/**
 * `cubestream simulate`: writes a labelled ENVI dataset from the simulated line-scan camera, one
 * cube (`frame-0000.hdr` + `.img`) and one uint8 class mask (`frame-0000_mask.hdr` + `.img`) per
 * frame, plus `manifest.json` (generator options, class table, per-frame anomaly pixel counts).
 * The belt is continuous across frames, as from a real camera.
 *
 * @example
 * ```sh
 * cubestream simulate --out data/sim --frames 20 --width 512 --lines 256 --anomaly-rate 0.05
 * ```
 */
export const simulateCommand: CliCommand = {
  name: 'simulate',
  summary: 'Write a labelled ENVI dataset from the simulated lentil line-scan camera',
  usage: `cubestream simulate --out DIR --frames N [options]
  --out DIR              folder to write (created if missing)
  --frames N             frames to write
  --seed S               random seed; the same seed writes the same data (default 1)
  --width W              pixels per line (default 256)
  --lines L              rows per frame (default 256)
  --preset P             band layout: default (61 bands 430-910 nm), fx10 (224, 400-1000), fx17 (224, 900-1700)
  --anomaly-rate R       fraction of objects that are foreign bodies (default 0.02)
  --coverage C           fraction of the belt covered by objects, 0-0.95 (default 0.5)
  --data-type T          u16 (whole DN, default) or f32
  --interleave I         bil (default), bip or bsq
  --output O             dn (default) or reflectance (needs --data-type f32)`,
  options: {
    out: { type: 'string' },
    frames: { type: 'string' },
    seed: { type: 'string' },
    width: { type: 'string' },
    lines: { type: 'string' },
    preset: { type: 'string' },
    'anomaly-rate': { type: 'string' },
    coverage: { type: 'string' },
    'data-type': { type: 'string' },
    interleave: { type: 'string' },
    output: { type: 'string' },
  },
  async run({ values }, io) {
    const args = parseArgs(values);
    const generator = {
      seed: args.seed,
      width: args.width,
      preset: args.preset,
      anomalyRate: args.anomalyRate,
      coverage: args.coverage,
      output: args.output,
      totalRows: args.lines,
      blockRows: Math.min(BLOCK_ROWS, args.lines),
      frames: args.frames,
    };
    const sim = createLineScanSimulator(generator);
    const { wavelengths } = sim;
    await mkdir(args.out, { recursive: true });
    const classNames = SIM_CLASSES.map((c) => c.name).join(', ');
    const written: ManifestFrame[] = [];
    const pad = Math.max(4, String(args.frames - 1).length);
    for (let frame = 0; frame < args.frames; frame++) {
      const name = `frame-${String(frame).padStart(pad, '0')}`;
      const cube = await createEnviWriter(join(args.out, `${name}.hdr`), {
        samples: args.width,
        lines: args.lines,
        bands: wavelengths.length,
        dataType: DATA_TYPES[args.dataType],
        interleave: args.interleave,
        wavelengths,
        radiometry: args.output === 'dn' ? 'counts' : 'reflectance',
        description: `cubestream simulated line-scan camera, seed ${args.seed}, ${name}, ${args.output === 'dn' ? 'digital numbers' : 'reflectance'}`,
      });
      let mask: EnviWriter | undefined;
      try {
        mask = await createEnviWriter(join(args.out, `${name}_mask.hdr`), {
          samples: args.width,
          lines: args.lines,
          bands: 1,
          dataType: 1,
          interleave: 'bsq',
          description: `class ids of ${name} (see manifest.json)`,
          extra: { classes: String(SIM_CLASSES.length), 'class names': classNames },
        });
        let anomalyPixels = 0;
        for (let rows = 0; rows < args.lines; ) {
          const block = sim.nextFrame();
          if (block?.labels === undefined) throw new Error(`simulator ended early in ${name}`);
          const labels = Float32Array.from(block.labels);
          for (const id of block.labels) if (isSimAnomaly(id)) anomalyPixels++;
          await Promise.all([cube.writeRows(block.data), mask.writeRows(labels)]);
          rows += block.height;
        }
        await cube.close();
        await mask.close();
        written.push({
          name,
          cube: `${name}.hdr`,
          mask: `${name}_mask.hdr`,
          pixels: args.width * args.lines,
          anomalyPixels,
        });
      } catch (error) {
        await cube.abort();
        await mask?.abort();
        throw error;
      }
    }
    const manifest = {
      schema: 'cubestream.simulated-dataset/1',
      generator: {
        name: 'cubestream simulated line-scan camera',
        options: {
          ...generator,
          bands: wavelengths.length,
          wavelengthRange: [wavelengths[0], wavelengths[wavelengths.length - 1]],
          dataType: args.dataType,
          interleave: args.interleave,
          lines: args.lines,
        },
      },
      classes: SIM_CLASSES,
      normalClassIds: SIM_NORMAL_CLASS_IDS,
      anomalyClassIds: SIM_ANOMALY_CLASS_IDS,
      frames: written,
    };
    await writeFile(join(args.out, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const anomalies = written.reduce((sum, f) => sum + f.anomalyPixels, 0);
    io.out(
      `wrote ${written.length} frames of ${args.lines}x${args.width}x${wavelengths.length} to ${args.out} (${anomalies} foreign-body pixels)\n`,
    );
    return 0;
  },
};
