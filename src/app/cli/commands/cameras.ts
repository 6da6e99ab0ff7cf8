import { AravisUnavailableError } from '../../../../connectors/sources/genicam/aravis-library.js';
import {
  type DiscoveredCamera,
  listCameras,
} from '../../../../connectors/sources/genicam/discover-cameras.js';
import { type CameraFormat, readCameraFormat } from '../camera-format.js';
import { type CliCommand, type CliIO, stringOption, UsageError } from '../command.js';

/** One camera of `cubestream cameras --json`; `format` only for the camera named by `--open`. */
export interface CameraListing extends DiscoveredCamera {
  format?: CameraFormat;
}

const COLUMNS: readonly (keyof DiscoveredCamera)[] = [
  'id',
  'vendor',
  'model',
  'serial',
  'address',
  'protocol',
];

function table(cameras: readonly CameraListing[]): string {
  const rows = [
    COLUMNS.map((c) => c.toUpperCase()),
    ...cameras.map((camera) => COLUMNS.map((c) => camera[c])),
  ];
  const widths = COLUMNS.map((_, i) => Math.max(...rows.map((row) => (row[i] as string).length)));
  const lines = rows.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i] as number))
      .join('  ')
      .trimEnd(),
  );
  for (const camera of cameras) {
    const f = camera.format;
    if (f === undefined) continue;
    lines.push(
      '',
      `${camera.id}: Width ${f.width}, Height ${f.height}, PixelFormat ${f.pixelFormat}, payload ${f.payloadBytes} bytes`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `--open` names a camera by id, address or serial. */
function matches(camera: DiscoveredCamera, name: string): boolean {
  return camera.id === name || camera.address === name || camera.serial === name;
}

/**
 * `cubestream cameras [--json] [--open ID]`: the GenICam cameras Aravis sees (GigE Vision on
 * every interface, USB3 Vision), as a table or a JSON array of `{ id, vendor, model, serial,
 * address, protocol }`. `--open ID` (or `--camera ID`) also opens that camera and reports its
 * current line format (Width, Height, PixelFormat, payload) without changing a feature. Without
 * Aravis: exit 2 with one line naming the packages to install.
 *
 * @example
 * ```sh
 * cubestream cameras --json --open 127.0.0.1
 * ```
 */
export const camerasCommand: CliCommand = createCamerasCommand();

/** Test seam of {@link createCamerasCommand}: where the camera list and formats come from. */
export interface CamerasCommandDeps {
  /** Default `listCameras` (Aravis discovery). */
  readonly list?: () => Promise<DiscoveredCamera[]>;
  /** Default `readCameraFormat` (opens the camera). */
  readonly readFormat?: typeof readCameraFormat;
}

/** Builds `cubestream cameras` (see {@link camerasCommand}). */
export function createCamerasCommand(deps: CamerasCommandDeps = {}): CliCommand {
  const list = deps.list ?? listCameras;
  const readFormat = deps.readFormat ?? readCameraFormat;
  return {
    name: 'cameras',
    summary: 'List the GenICam cameras Aravis sees (and the line format of one)',
    usage: `cubestream cameras [--json] [--open ID]
  --json                 print a JSON array of { id, vendor, model, serial, address, protocol }
  --open ID              also open camera ID (id, address or serial) and print its line format
  --camera ID            the same as --open`,
    options: {
      json: { type: 'boolean' },
      open: { type: 'string' },
      camera: { type: 'string' },
    },
    async run({ values }, io: CliIO) {
      const open = stringOption(values, 'open') ?? stringOption(values, 'camera');
      if (values.open !== undefined && values.camera !== undefined && values.open !== values.camera) {
        throw new UsageError('give --open or --camera, not both');
      }
      let cameras: CameraListing[];
      try {
        cameras = await list();
        if (open !== undefined) {
          // A listed camera is opened by its Aravis id (which a serial number alone is not).
          const listed = cameras.find((camera) => matches(camera, open));
          const reading = await readFormat(listed?.id ?? open);
          if (listed === undefined) cameras.push({ ...reading.camera, format: reading.format });
          else listed.format = reading.format;
        }
      } catch (error) {
        if (!(error instanceof AravisUnavailableError)) throw error;
        io.err(`cubestream cameras: ${error.message}\n`);
        return 2;
      }
      if (values.json === true) {
        io.out(`${JSON.stringify(cameras, null, 2)}\n`);
        return 0;
      }
      if (cameras.length === 0) {
        io.out(
          'no camera found (a GigE Vision camera must be reachable on a local subnet; to try: arv-fake-gv-camera-0.8 -i 127.0.0.1)\n',
        );
        return 0;
      }
      io.out(table(cameras));
      return 0;
    },
  };
}
