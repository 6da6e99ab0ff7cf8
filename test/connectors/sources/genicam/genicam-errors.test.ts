import { describe, expect, it } from 'vitest';
import {
  AravisUnavailableError,
  GenicamError,
  genicamErrorFromWire,
  genicamErrorToWire,
} from '../../../../connectors/sources/genicam/genicam-errors.js';
import { CubestreamError } from '../../../../src/core/errors.js';

describe('GenICam errors', () => {
  it('names the feature, the value and the call, and tells a refused value from a link failure', () => {
    const refused = new GenicamError({
      call: 'arv_camera_set_integer',
      feature: 'Width',
      value: '5000',
      domain: 'arv-gc-error-quark',
      aravisCode: 4,
      detail: "[Width] Value '5000' greater than allowed maximum '2048'",
    });
    expect(refused).toBeInstanceOf(CubestreamError);
    expect(refused.code).toBe('genicam');
    expect(refused.message).toBe(
      "GenICam Width = 5000: [Width] Value '5000' greater than allowed maximum '2048' (arv_camera_set_integer)",
    );
    expect(refused.transient).toBe(false);
    const timeout = new GenicamError({
      call: 'arv_camera_set_integer',
      feature: 'Width',
      value: '64',
      domain: 'arv-device-error-quark',
      aravisCode: 5,
      detail: '[ArvDevice::write_register] Timeout',
    });
    expect(timeout.transient).toBe(true);
  });

  it('gives one line naming the package to install', () => {
    const error = new AravisUnavailableError(
      'libaravis-0.8.so.0',
      'cannot open shared object file:\nNo such file',
    );
    expect(error.code).toBe('aravis_unavailable');
    expect(error.message).toBe(
      'GenICam cameras need Aravis: apt-get install libaravis-0.8-0 aravis-tools (libaravis-0.8.so.0: cannot open shared object file: No such file)',
    );
    expect(new AravisUnavailableError('koffi', "Cannot find package 'koffi'").message).toMatch(
      /^GenICam cameras need the koffi FFI: npm install koffi \(koffi: /,
    );
  });

  it('crosses the worker port with its class and fields', () => {
    const genicam = new GenicamError({
      call: 'arv_camera_new',
      detail: 'Device not found',
      domain: 'arv-device-error-quark',
      aravisCode: 6,
    });
    const back = genicamErrorFromWire(structuredClone(genicamErrorToWire(genicam)));
    expect(back).toBeInstanceOf(GenicamError);
    expect(back.message).toBe(genicam.message);
    expect((back as GenicamError).transient).toBe(true);
    const unavailable = genicamErrorFromWire(
      structuredClone(genicamErrorToWire(new AravisUnavailableError('x.so', 'gone'))),
    );
    expect(unavailable).toBeInstanceOf(AravisUnavailableError);
    expect(unavailable.message).toBe(new AravisUnavailableError('x.so', 'gone').message);
    const other = genicamErrorFromWire(structuredClone(genicamErrorToWire(new TypeError('bad'))));
    expect([other.name, other.message]).toEqual(['TypeError', 'bad']);
  });
});
