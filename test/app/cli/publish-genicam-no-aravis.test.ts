/**
 * `cubestream publish --from genicam` on a machine without Aravis: the real loader, asked for a
 * library that is not there, makes the command exit 1 with the one line the GenICam source gives
 * (naming the packages to install), before any server is reached.
 */
import { describe, expect, it, vi } from 'vitest';
import { runCli } from '../../../src/app/cli/main.js';
import { freePort } from '../../helpers/brokers.js';
import { captureIO } from '../../helpers/capture-io.js';

vi.mock('../../../connectors/sources/genicam/aravis-library.js', async (importOriginal) => {
  const actual =
    await importOriginal<typeof import('../../../connectors/sources/genicam/aravis-library.js')>();
  return { ...actual, loadAravis: () => actual.loadAravis({ library: 'libaravis-missing-0.8.so.0' }) };
});

describe('cubestream publish --from genicam without Aravis', () => {
  it('exits 1 with the one line that names the packages to install, before connecting', async () => {
    // Nothing listens there: reaching the server would fail with another message.
    const port = await freePort();
    const io = captureIO();
    const code = await runCli(
      [
        'publish',
        '--from',
        'genicam',
        '--camera',
        'c1',
        '--device',
        '127.0.0.1',
        '--to',
        `nats://127.0.0.1:${port}`,
        '--connect-timeout',
        '0.5',
      ],
      io,
    );
    expect(code).toBe(1);
    expect(io.stdout()).toBe('');
    expect(io.stderr()).toMatch(
      /^cubestream publish: GenICam cameras need (Aravis: apt-get install libaravis-0\.8-0 aravis-tools|the koffi FFI: npm install koffi) \([^\n]+\)\n$/,
    );
  });
});
