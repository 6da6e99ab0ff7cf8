import path from 'node:path';
import type { GenicamSourceSettings } from '../../../../connectors/sources/genicam/genicam-source-options.js';
import type { OpenedCamera } from '../../../../connectors/sources/genicam/line-stream.js';
import { reflectanceGains } from '../../../core/reflectance.js';
import {
  averageLines,
  REFERENCE_FILES,
  type StoredReferences,
  saveReferences,
} from '../../../model/radiometric-references.js';
import {
  CameraCaptureError,
  type CameraLineFormat,
  type CameraLinesResult,
  readCameraLines,
} from '../camera-lines.js';
import {
  CAMERA_SETUP_OPTIONS,
  CAMERA_SETUP_USAGE,
  cameraSettingsOf,
  featureAssignments,
} from '../camera-settings.js';
import { type CliCommand, type CliIO, numberOption, stringOption, UsageError } from '../command.js';
import { createPrompter, type Prompter } from '../prompt.js';

/** The operator's prompts, in order. */
export const CALIBRATE_PROMPTS = {
  dark: 'Close the shutter or cap the lens, then press Enter',
  white: 'Put the white reference tile under the camera, then press Enter',
} as const;

/** One averaged reference and how it was read. */
interface Reference {
  readonly mean: Float32Array;
  readonly read: CameraLinesResult;
}

/** Reads `count` lines (counts) and averages them (`averageLines`). */
async function captureReference(
  settings: GenicamSourceSettings,
  count: number,
  io: CliIO,
  name: 'dark' | 'white',
): Promise<Reference> {
  let lines: Float32Array | undefined;
  let size = 0;
  const read = await readCameraLines({
    settings,
    lines: count,
    onWarning: (message) => io.err(`warning: ${message}\n`),
    onLine: (row, _at, index) => {
      size = row.length;
      lines ??= new Float32Array(count * size);
      lines.set(row, index * size);
    },
  });
  const all = lines as Float32Array;
  const views = Array.from({ length: read.lines }, (_, i) => all.subarray(i * size, (i + 1) * size));
  const mean = averageLines(views, read.format.width, read.format.bands);
  const lost = read.lost.incomplete + read.lost.gap;
  io.err(`${name}: ${read.lines} lines averaged${lost > 0 ? ` (${lost} lost on the way)` : ''}\n`);
  return { mean, read };
}

function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function cameraLine(camera: OpenedCamera): string {
  return `${camera.id} (${camera.vendor} ${camera.model}, serial ${camera.serial})`;
}

function sameGeometry(a: CameraLineFormat, b: CameraLineFormat): boolean {
  return a.width === b.width && a.bands === b.bands;
}

/**
 * `cubestream calibrate`: captures the dark and white references of a GenICam line-scan camera
 * for reflectance, `(DN - dark) / (white - dark)`. It prompts on stderr (close the shutter;
 * put the white tile) and waits for Enter before each; `--yes`, or an input that ends (a
 * script), goes on without waiting. Each reference is the mean of N lines; the folder gets
 * `dark.hdr`/`white.hdr` (ENVI) and `references.json` (camera, settings read back, time, line
 * counts, wavelengths), which `source.calibration` and `cubestream capture --calibration` read.
 * `--dark-feature` sets features for the dark lines only (a shutter the camera closes itself);
 * the settings stored are the white lines' (those the camera runs at).
 *
 * @example
 * ```sh
 * cubestream calibrate --camera 127.0.0.1 --pixel-format Mono16 --dark 200 --white 200 --out calibration/line1
 * ```
 */
export const calibrateCommand: CliCommand = {
  name: 'calibrate',
  summary: 'Capture dark and white references of a GenICam camera (for reflectance)',
  usage: `cubestream calibrate (--camera ID | --config FILE) --dark N --white N --out DIR [--yes] [feature flags]
  --dark N               lines averaged into the dark reference (shutter closed)
  --white N              lines averaged into the white reference (white tile)
  --out DIR              folder for dark.hdr, white.hdr and references.json
  --yes                  do not wait for Enter (scripts; an input that ends does the same)
  --dark-feature N=V     a GenICam feature set only for the dark lines, e.g. a shutter the camera
                         closes itself; give its white value with --feature N=V (repeatable;
                         the fake camera: --feature ExposureTimeAbs=10000 --dark-feature ExposureTimeAbs=1000)
${CAMERA_SETUP_USAGE}`,
  options: {
    ...CAMERA_SETUP_OPTIONS,
    dark: { type: 'string' },
    white: { type: 'string' },
    out: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    'dark-feature': { type: 'string', multiple: true },
  },
  async run({ values }, io) {
    const out = stringOption(values, 'out', true);
    stringOption(values, 'dark', true);
    stringOption(values, 'white', true);
    const darkLines = numberOption(values, 'dark', 0, { integer: true, min: 1 });
    const whiteLines = numberOption(values, 'white', 0, { integer: true, min: 1 });
    // References are taken in counts, whatever the config says of calibration.
    const { calibration: _ignored, ...settings } = await cameraSettingsOf(values);
    const darkFeatures = featureAssignments(values, 'dark-feature');
    // A camera keeps what was set: the white lines set each dark feature back to its own value.
    const unpaired = Object.keys(darkFeatures ?? {}).filter(
      (name) => settings.features.extra?.[name] === undefined,
    );
    if (unpaired.length > 0) {
      throw new UsageError(
        `--dark-feature ${unpaired.join(', ')} needs the value for the white lines too: --feature ${unpaired[0]}=VALUE (or features.extra in the config)`,
      );
    }
    const darkSettings =
      darkFeatures === undefined
        ? settings
        : {
            ...settings,
            features: { ...settings.features, extra: { ...settings.features.extra, ...darkFeatures } },
          };
    const prompter: Prompter | undefined = values.yes === true ? undefined : createPrompter(io);
    let dark: Reference;
    let white: Reference;
    try {
      await prompter?.ask(CALIBRATE_PROMPTS.dark);
      dark = await captureReference(darkSettings, darkLines, io, 'dark');
      await prompter?.ask(CALIBRATE_PROMPTS.white);
      white = await captureReference(settings, whiteLines, io, 'white');
    } finally {
      prompter?.close();
    }
    const { format, camera } = white.read;
    if (!sameGeometry(dark.read.format, format)) {
      throw new CameraCaptureError(
        `the camera's lines changed between dark (${dark.read.format.width} x ${dark.read.format.bands}) and white (${format.width} x ${format.bands}): run calibrate again`,
      );
    }
    const references: StoredReferences = {
      width: format.width,
      bands: format.bands,
      dark: dark.mean,
      white: white.mean,
      takenAt: new Date().toISOString(),
      darkLines,
      whiteLines,
      ...(format.wavelengthUnits === 'nm' ? { wavelengths: Array.from(format.wavelengths) } : {}),
      settings: {
        camera: { id: camera.id, vendor: camera.vendor, model: camera.model, serial: camera.serial },
        features: camera.features,
      },
    };
    await saveReferences(out, references);
    const { deadCount } = reflectanceGains(references);
    const total = format.width * format.bands;
    io.out(
      `references: ${path.join(out, REFERENCE_FILES.meta)} (+ ${REFERENCE_FILES.dark}, ${REFERENCE_FILES.white})\n`,
    );
    io.out(`camera:     ${cameraLine(camera)}\n`);
    io.out(
      `lines:      ${format.width} pixels x ${format.bands} bands (${camera.width} x ${camera.height} ${camera.pixelFormat})\n`,
    );
    io.out(`dark:       mean ${meanOf(dark.mean).toFixed(2)} counts over ${darkLines} lines\n`);
    io.out(`white:      mean ${meanOf(white.mean).toFixed(2)} counts over ${whiteLines} lines\n`);
    io.out(`dead:       ${deadCount} of ${total} pixel-bands (white <= dark: their reflectance is 0)\n`);
    if (deadCount > 0) {
      io.err(
        `warning: ${deadCount} of ${total} pixel-bands have white <= dark: was the shutter closed for dark and the tile lit for white?\n`,
      );
    }
    return 0;
  },
};
