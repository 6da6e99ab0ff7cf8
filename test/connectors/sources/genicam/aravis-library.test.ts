import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AravisUnavailableError, loadAravis } from '../../../../connectors/sources/genicam/aravis-library.js';

function koffiInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('koffi');
    return true;
  } catch {
    return false;
  }
}

describe('loadAravis', () => {
  it('fails with one line naming the Debian packages when the library is missing', async () => {
    const error = await loadAravis({ library: 'libaravis-0.8-missing.so.0' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!(error instanceof AravisUnavailableError))
      throw new Error(`expected AravisUnavailableError, got ${String(error)}`);
    expect(error.code).toBe('aravis_unavailable');
    expect(error.message).not.toContain('\n');
    if (koffiInstalled()) {
      expect(error.message).toMatch(
        /^GenICam cameras need Aravis: apt-get install libaravis-0\.8-0 aravis-tools \(libaravis-0\.8-missing\.so\.0: .*cannot open shared object file.*\)$/,
      );
      expect(error.missing).toBe('libaravis-0.8-missing.so.0');
    } else {
      expect(error.message).toMatch(/^GenICam cameras need the koffi FFI: npm install koffi/);
    }
  });
});
