/**
 * Fuzz tests of the frame codec (connectors/codec/frame-safetensors.ts over src/io/safetensors.ts):
 * whatever bytes arrive, `decodeFrameMessage` returns a valid frame within `maxValues` or throws
 * `InvalidFrameError`, and valid frames round-trip exactly.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeFrameMessage,
  encodeFrameMessage,
  type WireCubeDtype,
} from '../../connectors/codec/frame-safetensors.js';
import { type CubeFrame, InvalidFrameError, validateFrame } from '../../src/core/frame.js';
import { encodeSafetensors } from '../../src/io/safetensors.js';
import { cameraIdArb, FUZZ_MAX_VALUES, frameArb } from './frame-arbitraries.js';
import { expectNamedError, fuzzParameters, outcome } from './fuzz-settings.js';
import { applyEdit, assemble, deepen, type MessageEdit, messageEdit } from './message-edits.js';

const WIRE_DTYPES: readonly WireCubeDtype[] = ['F32', 'F64', 'U8', 'U16', 'I16'];

/** Decodes with a small `maxValues`; checks the one allowed outcome of each kind. */
function decodeChecked(bytes: Uint8Array): CubeFrame | InvalidFrameError {
  const result = outcome(() => decodeFrameMessage(bytes, { maxValues: FUZZ_MAX_VALUES, now: () => 0 }));
  if (!result.ok) {
    expectNamedError(result.error, InvalidFrameError);
    expect(result.error.message).toMatch(/^invalid frame: /);
    return result.error;
  }
  const frame = result.value;
  expect(frame.height * frame.width * frame.bands).toBeLessThanOrEqual(FUZZ_MAX_VALUES);
  expect(frame.data.length).toBe(frame.height * frame.width * frame.bands);
  expect(() => validateFrame(frame, { maxValues: FUZZ_MAX_VALUES })).not.toThrow();
  return frame;
}

/** The frame without its `timings` (never on the wire). */
function wireFields(frame: CubeFrame): Omit<CubeFrame, 'timings'> {
  const { timings: _timings, ...rest } = frame;
  return rest;
}

const validMessage = fc
  .constantFrom(...WIRE_DTYPES)
  .chain((dtype) => frameArb(dtype).map((frame) => encodeFrameMessage(frame, { dtype })));

describe('fuzz: decodeFrameMessage', () => {
  it('arbitrary bytes: a frame or InvalidFrameError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
        decodeChecked(bytes);
      }),
      fuzzParameters(2000),
    );
  });

  it('a length field then arbitrary JSON and data: a frame or InvalidFrameError', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), fc.uint8Array({ maxLength: 64 }), (json, data) => {
        decodeChecked(assemble(json, data));
      }),
      fuzzParameters(1000),
    );
  });

  it('valid frames round-trip exactly in every wire dtype', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...WIRE_DTYPES).chain((dtype) => fc.tuple(fc.constant(dtype), frameArb(dtype))),
        ([dtype, frame]) => {
          const decoded = decodeChecked(encodeFrameMessage(frame, { dtype }));
          expect(decoded).not.toBeInstanceOf(InvalidFrameError);
          expect(wireFields(decoded as CubeFrame)).toEqual(wireFields(frame));
        },
      ),
      fuzzParameters(500),
    );
  });

  it('mutated valid messages (header, metadata, lengths, bytes): a frame or InvalidFrameError', () => {
    fc.assert(
      fc.property(validMessage, fc.array(messageEdit, { minLength: 1, maxLength: 4 }), (bytes, edits) => {
        const mutated = edits.reduce<Uint8Array>(
          (current, edit: MessageEdit) => applyEdit(current, edit),
          bytes,
        );
        decodeChecked(mutated);
      }),
      fuzzParameters(3000),
    );
  });

  it('deeply nested header JSON: InvalidFrameError, no stack overflow', () => {
    fc.assert(
      fc.property(
        validMessage,
        fc.constantFrom('cube', 'wavelengths', 'junk'),
        fc.integer({ min: 2, max: 20_000 }), // depth 1 is `[]`, a valid scalar shape
        (bytes, tensor, depth) => {
          const result = decodeChecked(deepen(bytes, tensor, depth));
          expect(result).toBeInstanceOf(InvalidFrameError);
        },
      ),
      fuzzParameters(30),
    );
  });

  it('metadata with any strings: a frame with exactly those identities, or InvalidFrameError', () => {
    const wavelengths = { dtype: 'F32' as const, shape: [2], data: Float32Array.of(400, 500) };
    const cube = { dtype: 'U8' as const, shape: [1, 1, 2], data: Uint8Array.of(1, 2) };
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom(
            'camera_id',
            'frame_id',
            'captured_at',
            'row_offset',
            'total_rows',
            'wavelength_units',
          ),
          fc.oneof(fc.string({ maxLength: 24 }), fc.integer().map(String), cameraIdArb),
        ),
        (metadata) => {
          const result = decodeChecked(encodeSafetensors({ cube, wavelengths }, metadata));
          if (result instanceof InvalidFrameError) return;
          expect(result.cameraId).toBe(metadata.camera_id);
          expect(result.frameId).toBe(Number(metadata.frame_id));
        },
      ),
      fuzzParameters(1000),
    );
  });
});
