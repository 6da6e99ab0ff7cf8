import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { OpenedCamera } from '../../../../connectors/sources/genicam/line-stream.js';
import type { EnviInterleave } from '../../../io/envi/header.js';
import { createEnviWriter, type EnviWriter } from '../../../io/envi/writer.js';
import { type CameraLineFormat, readCameraLines } from '../camera-lines.js';
import { CAMERA_SETUP_OPTIONS, CAMERA_SETUP_USAGE, cameraSettingsOf } from '../camera-settings.js';
import {
  captureHeaderFields,
  timestampsSidecarPath,
  timestampsStorage,
  writeTimestampsSidecar,
} from '../capture-header.js';
import { type CliCommand, numberOption, stringOption, UsageError } from '../command.js';

const INTERLEAVES: readonly EnviInterleave[] = ['bil', 'bip', 'bsq'];

/** `capture-20250101T120000Z`: the default name, from the start time (UTC). */
function defaultName(now: Date): string {
  return `capture-${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

function cameraLine(camera: OpenedCamera): string {
  return `${camera.id} (${camera.vendor} ${camera.model}, serial ${camera.serial})`;
}

/**
 * `cubestream capture`: records N lines of a GenICam line-scan camera as one ENVI cube
 * `<out>/<name>.hdr` (+ `.img`), streamed to disk line by line: uint16 counts, or float32
 * reflectance with `--calibration` (references from `cubestream calibrate`; a run config's
 * `source.calibration` too). The header holds the wavelengths (when known), `cubestream
 * radiometry`, the camera and its settings as read back, the lines lost on the way and one
 * timestamp per line (epoch ms; in the header up to 10 000 lines, beyond in
 * `<name>.timestamps.json`). Lost lines are counted and left out: the cube holds N lines that
 * arrived. `cubestream train` takes such cubes as they are (no mask: every pixel normal).
 *
 * @example
 * ```sh
 * cubestream capture --camera 127.0.0.1 --pixel-format Mono16 --lines 2000 --out data/belt --calibration calibration/line1
 * ```
 */
export const captureCommand: CliCommand = {
  name: 'capture',
  summary: 'Record lines of a GenICam camera as an ENVI cube (for training)',
  usage: `cubestream capture (--camera ID | --config FILE) --lines N --out DIR [--name NAME] [--calibration DIR] [feature flags]
  --lines N              lines to record (lost lines do not count)
  --out DIR              folder of the cube (created)
  --name NAME            the cube's name: NAME.hdr, NAME.img (default capture-<UTC time>)
  --calibration DIR      references (cubestream calibrate): record float32 reflectance instead of uint16 counts
  --interleave I         bil (default), bip or bsq
  --timeout S            give up when no line arrives for S seconds (default 30)
${CAMERA_SETUP_USAGE}`,
  options: {
    ...CAMERA_SETUP_OPTIONS,
    lines: { type: 'string' },
    out: { type: 'string' },
    name: { type: 'string' },
    calibration: { type: 'string' },
    interleave: { type: 'string' },
    timeout: { type: 'string' },
  },
  async run({ values }, io) {
    stringOption(values, 'lines', true);
    const lines = numberOption(values, 'lines', 0, { integer: true, min: 1 });
    const out = stringOption(values, 'out', true);
    const name = stringOption(values, 'name') ?? defaultName(new Date());
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) {
      throw new UsageError(`--name must be letters, digits, ".", "_" and "-", got ${JSON.stringify(name)}`);
    }
    const interleave = (stringOption(values, 'interleave') ?? 'bil') as EnviInterleave;
    if (!INTERLEAVES.includes(interleave)) {
      throw new UsageError(`--interleave must be bil, bip or bsq, got ${JSON.stringify(interleave)}`);
    }
    const timeoutS = numberOption(values, 'timeout', 30, { min: 0.1 });
    const calibration = stringOption(values, 'calibration');
    const settings = await cameraSettingsOf(values);
    if (calibration !== undefined) settings.calibration = calibration;

    const hdrPath = path.join(out, `${name}.hdr`);
    if (await exists(hdrPath)) throw new UsageError(`${hdrPath} exists: choose another --name or --out`);
    await mkdir(out, { recursive: true });

    const timestamps = new Float64Array(lines);
    let opened: EnviWriter | undefined;
    let opening: Promise<EnviWriter> | undefined;
    let writeError: unknown;
    let last: Promise<void> = Promise.resolve();
    const track = (written: Promise<void>): void => {
      last = written.catch((error: unknown) => {
        writeError ??= error;
      });
    };
    // The writer needs the lines' geometry, so it opens with the first line; the few lines that
    // arrive meanwhile are copied and queued. Then each row goes straight to writeRows, which
    // encodes it at once (the row is only valid during onLine) and writes in call order.
    const write = (row: Float32Array, format: CameraLineFormat): void => {
      if (opened !== undefined) {
        track(opened.writeRows(row));
        return;
      }
      opening ??= createEnviWriter(hdrPath, {
        samples: format.width,
        lines,
        bands: format.bands,
        dataType: format.radiometry === 'reflectance' ? 4 : 12,
        interleave,
        radiometry: format.radiometry,
        ...(format.wavelengthUnits === 'nm' ? { wavelengths: format.wavelengths } : {}),
        description: `cubestream capture of ${lines} lines (${format.radiometry})`,
      }).then((writer) => {
        opened = writer;
        return writer;
      });
      const copy = row.slice();
      track(opening.then((writer) => writer.writeRows(copy)));
    };

    let result: Awaited<ReturnType<typeof readCameraLines>>;
    try {
      result = await readCameraLines({
        settings,
        lines,
        idleTimeoutMs: timeoutS * 1000,
        onWarning: (message) => io.err(`warning: ${message}\n`),
        onOpened: (camera, reconnected) => {
          if (reconnected) io.err(`camera ${cameraLine(camera)} is back: recording goes on\n`);
        },
        onLine: (row, capturedAt, index, format) => {
          if (writeError !== undefined) throw writeError;
          timestamps[index] = capturedAt;
          write(row, format);
        },
      });
      await last;
      if (writeError !== undefined) throw writeError;
    } catch (error) {
      await last;
      const writer = opened ?? (await opening?.catch(() => undefined));
      await writer?.abort();
      throw error;
    }
    const { camera, format, lost, reconnects } = result;
    const lostLines = lost.incomplete + lost.gap;
    const fields = captureHeaderFields(
      {
        camera: { id: camera.id, vendor: camera.vendor, model: camera.model, serial: camera.serial },
        features: camera.features,
        linesLost: lostLines,
        timestamps,
        ...(settings.calibration === undefined ? {} : { calibration: path.resolve(settings.calibration) }),
      },
      hdrPath,
    );
    const storage = timestampsStorage(lines);
    if (storage === 'sidecar') await writeTimestampsSidecar(hdrPath, timestamps);
    await (opened as EnviWriter).close(fields);

    const dtype = format.radiometry === 'reflectance' ? 'float32 reflectance' : 'uint16 counts';
    io.out(
      `cube:       ${hdrPath} (${lines} lines x ${format.width} samples x ${format.bands} bands, ${dtype}, ${interleave})\n`,
    );
    io.out(`camera:     ${cameraLine(camera)}\n`);
    io.out(
      `settings:   ${Object.entries(camera.features)
        .map(([feature, value]) => `${feature}=${value}`)
        .join(' ')}\n`,
    );
    io.out(
      `lost:       ${lostLines} lines (incomplete ${lost.incomplete}, gaps ${lost.gap})${reconnects > 0 ? `, ${reconnects} reconnect(s)` : ''}\n`,
    );
    io.out(`timestamps: ${storage === 'header' ? 'in the header' : timestampsSidecarPath(hdrPath)}\n`);
    if (lostLines > 0)
      io.err(
        `warning: ${lostLines} lines were lost while capturing; the cube holds the ${lines} that arrived\n`,
      );
    return 0;
  },
};
