/**
 * fast-check arbitraries for the frame codec fuzz tests: valid frames, hostile JSON values and
 * numeric-looking strings, and the byte-level edits of a safetensors message.
 */
import fc from 'fast-check';
import type { WireCubeDtype } from '../../connectors/codec/frame-safetensors.js';
import { type CubeFrame, createFrame } from '../../src/core/frame.js';

/** Largest frame the fuzz tests accept (values); valid frames are at most 4x4x4 = 64. */
export const FUZZ_MAX_VALUES = 64;

/** Valid camera ids (see src/core/camera-id.ts). */
export const cameraIdArb = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9_-]{0,20}$/);

/** A finite double that is not -0 (JSON and `String()` write -0 as 0). */
const finiteDouble = fc
  .double({ noNaN: true, noDefaultInfinity: true })
  .map((v) => (Object.is(v, -0) ? 0 : v));

/** Element ranges that an integer wire dtype holds exactly. */
const INTEGER_RANGE: Record<Exclude<WireCubeDtype, 'F32' | 'F64'>, [number, number]> = {
  U8: [0, 255],
  U16: [0, 65_535],
  I16: [-32_768, 32_767],
};

/**
 * A valid frame of at most 4x4x4 values whose data the wire dtype holds exactly (integers in range
 * for U8/U16/I16, any finite float32 for F32/F64), so that encode -> decode must give it back.
 */
export function frameArb(dtype: WireCubeDtype): fc.Arbitrary<CubeFrame> {
  return fc
    .record({
      height: fc.integer({ min: 1, max: 4 }),
      width: fc.integer({ min: 1, max: 4 }),
      bands: fc.integer({ min: 1, max: 4 }),
    })
    .chain(({ height, width, bands }) => {
      const values = height * width * bands;
      const data =
        dtype === 'F32' || dtype === 'F64'
          ? fc.float32Array({ minLength: values, maxLength: values, noNaN: true, noDefaultInfinity: true })
          : fc
              .array(fc.integer({ min: INTEGER_RANGE[dtype][0], max: INTEGER_RANGE[dtype][1] }), {
                minLength: values,
                maxLength: values,
              })
              .map((v) => Float32Array.from(v));
      return fc.record({
        cameraId: cameraIdArb,
        frameId: fc.maxSafeNat(),
        rowOffset: fc.nat({ max: 1_000_000 }),
        extraRows: fc.nat({ max: 1_000_000 }),
        capturedAt: finiteDouble,
        height: fc.constant(height),
        width: fc.constant(width),
        bands: fc.constant(bands),
        wavelengths: fc.float32Array({
          minLength: bands,
          maxLength: bands,
          noNaN: true,
          noDefaultInfinity: true,
        }),
        wavelengthUnits: fc.constantFrom('nm' as const, 'index' as const),
        data,
        labels: fc.option(fc.uint8Array({ minLength: height * width, maxLength: height * width }), {
          nil: undefined,
        }),
      });
    })
    .map(({ extraRows, labels, ...init }) =>
      createFrame({
        ...init,
        totalRows: init.rowOffset + init.height + extraRows,
        ...(labels === undefined ? {} : { labels }),
      }),
    );
}

/** Numbers that break naive dimension and offset checks. */
export const hostileNumber = fc.oneof(
  fc.constantFrom(-1, 0, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 2 ** 64, 1e21, 1e308, -1e308),
  fc.integer({ min: -10, max: 1_000 }),
  fc.double(),
);

/** JSON values a hostile header may hold where numbers, strings or objects are expected. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  hostileNumber,
  fc.constantFrom('F32', 'F64', 'U8', 'U16', 'I16', 'I32', 'I64', 'U64', 'BOOL', 'F16', 'BF16', 'f32', ''),
  fc.constantFrom(null, true, false, [], {}, '__proto__', 'constructor'),
  fc.array(hostileNumber, { maxLength: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);

/** Strings for numeric metadata: numbers in every spelling, and near misses. */
export const hostileNumericString = fc.oneof(
  fc.constantFrom(
    '',
    ' ',
    '-0',
    ' 5 ',
    '0x10',
    '1e400',
    '-1e400',
    'NaN',
    'Infinity',
    '-1',
    '1.5',
    '1e3',
    '1e21',
    '9007199254740991',
    '9007199254740993',
    '٣',
    '1_000',
    '+1',
    '.5',
    '5.',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 12 }),
);

/** The metadata keys of a frame message, and one that is not. */
export const metadataKey = fc.constantFrom(
  'camera_id',
  'frame_id',
  'captured_at',
  'row_offset',
  'total_rows',
  'wavelength_units',
  'radiometry',
  '__proto__',
  'extra',
);

/** Tensor names of a frame message, a stranger, and prototype names. */
export const tensorName = fc.constantFrom(
  'cube',
  'wavelengths',
  'labels',
  'junk',
  '__proto__',
  '__metadata__',
);

/** A JSON array nested `depth` deep, as text (built without recursion). */
export function nestedJsonText(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}
