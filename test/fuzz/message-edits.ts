/**
 * Edits of an encoded safetensors message, described as plain data (so that a counterexample
 * prints readably) and applied in order: header JSON edits re-serialise the header with a correct
 * length field; byte edits (truncation, bit flips, length field, non-UTF-8 bytes) work on the bytes
 * as they are.
 */
import fc from 'fast-check';
import {
  hostileJson,
  hostileNumericString,
  metadataKey,
  nestedJsonText,
  tensorName,
} from './frame-arbitraries.js';

/** One edit of a message. */
export type MessageEdit =
  | { kind: 'tensorField'; tensor: string; field: string; value: unknown }
  | { kind: 'tensorEntry'; tensor: string; value: unknown }
  | { kind: 'deleteTensor'; tensor: string }
  | { kind: 'shiftOffsets'; tensor: string; begin: number; end: number }
  | { kind: 'metadata'; key: string; value: unknown }
  | { kind: 'metadataWhole'; value: unknown }
  | { kind: 'header'; value: unknown }
  | { kind: 'dataBytes'; delta: number }
  | { kind: 'lengthField'; value: bigint }
  | { kind: 'lengthDelta'; delta: number }
  | { kind: 'nonUtf8'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'flip'; at: number; bit: number };

/** Any single {@link MessageEdit}. */
export const messageEdit: fc.Arbitrary<MessageEdit> = fc.oneof(
  fc.record({
    kind: fc.constant('tensorField' as const),
    tensor: tensorName,
    field: fc.constantFrom('dtype', 'shape', 'data_offsets', 'extra'),
    value: hostileJson,
  }),
  fc.record({ kind: fc.constant('tensorEntry' as const), tensor: tensorName, value: hostileJson }),
  fc.record({ kind: fc.constant('deleteTensor' as const), tensor: tensorName }),
  fc.record({
    kind: fc.constant('shiftOffsets' as const),
    tensor: tensorName,
    begin: fc.integer({ min: -16, max: 16 }),
    end: fc.integer({ min: -16, max: 16 }),
  }),
  fc.record({
    kind: fc.constant('metadata' as const),
    key: metadataKey,
    value: fc.oneof(hostileNumericString, hostileJson),
  }),
  fc.record({ kind: fc.constant('metadataWhole' as const), value: hostileJson }),
  fc.record({ kind: fc.constant('header' as const), value: hostileJson }),
  fc.record({ kind: fc.constant('dataBytes' as const), delta: fc.integer({ min: -32, max: 32 }) }),
  fc.record({
    kind: fc.constant('lengthField' as const),
    value: fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.constantFrom(0n, 2n ** 63n, 2n ** 64n - 1n, 2n ** 53n + 1n),
    ),
  }),
  fc.record({ kind: fc.constant('lengthDelta' as const), delta: fc.integer({ min: -16, max: 16 }) }),
  fc.record({
    kind: fc.constant('nonUtf8' as const),
    at: fc.nat(),
    byte: fc.integer({ min: 0x80, max: 0xff }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
);

interface Split {
  header: Record<string, unknown>;
  data: Uint8Array;
}

/** The header object and data of a well-formed message, or undefined. */
function split(bytes: Uint8Array): Split | undefined {
  if (bytes.byteLength < 8) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true);
  if (length > BigInt(bytes.byteLength - 8)) return undefined;
  const n = Number(length);
  try {
    const header: unknown = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)),
    );
    if (typeof header !== 'object' || header === null || Array.isArray(header)) return undefined;
    return { header: header as Record<string, unknown>, data: bytes.subarray(8 + n) };
  } catch {
    return undefined;
  }
}

/** A message from header text and data, with a correct length field. */
export function assemble(headerText: string, data: Uint8Array): Uint8Array {
  const header = new TextEncoder().encode(headerText);
  const out = new Uint8Array(8 + header.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.byteLength), true);
  out.set(header, 8);
  out.set(data, 8 + header.byteLength);
  return out;
}

/** Sets `key` as an own property, even `__proto__` (as JSON.parse would). */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function editHeader(bytes: Uint8Array, change: (split: Split) => Split): Uint8Array {
  const parts = split(bytes);
  if (parts === undefined) return bytes;
  const changed = change(parts);
  return assemble(JSON.stringify(changed.header), changed.data);
}

function entryOf(header: Record<string, unknown>, tensor: string): Record<string, unknown> | undefined {
  const entry = Object.hasOwn(header, tensor) ? header[tensor] : undefined;
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry)
    ? { ...(entry as Record<string, unknown>) }
    : undefined;
}

/** Applies one edit. */
export function applyEdit(bytes: Uint8Array, edit: MessageEdit): Uint8Array {
  switch (edit.kind) {
    case 'tensorField':
      return editHeader(bytes, ({ header, data }) => {
        const entry = entryOf(header, edit.tensor) ?? {};
        setOwn(entry, edit.field, edit.value);
        setOwn(header, edit.tensor, entry);
        return { header, data };
      });
    case 'tensorEntry':
      return editHeader(bytes, ({ header, data }) => {
        setOwn(header, edit.tensor, edit.value);
        return { header, data };
      });
    case 'deleteTensor':
      return editHeader(bytes, ({ header, data }) => {
        delete header[edit.tensor];
        return { header, data };
      });
    case 'shiftOffsets':
      return editHeader(bytes, ({ header, data }) => {
        const entry = entryOf(header, edit.tensor);
        const offsets = entry?.data_offsets;
        if (entry === undefined || !Array.isArray(offsets)) return { header, data };
        entry.data_offsets = [Number(offsets[0]) + edit.begin, Number(offsets[1]) + edit.end];
        setOwn(header, edit.tensor, entry);
        return { header, data };
      });
    case 'metadata':
      return editHeader(bytes, ({ header, data }) => {
        const metadata = entryOf(header, '__metadata__') ?? {};
        setOwn(metadata, edit.key, edit.value);
        setOwn(header, '__metadata__', metadata);
        return { header, data };
      });
    case 'metadataWhole':
      return editHeader(bytes, ({ header, data }) => {
        setOwn(header, '__metadata__', edit.value);
        return { header, data };
      });
    case 'header': {
      const parts = split(bytes);
      return parts === undefined ? bytes : assemble(JSON.stringify(edit.value) ?? '', parts.data);
    }
    case 'dataBytes':
      return editHeader(bytes, ({ header, data }) => {
        if (edit.delta < 0)
          return { header, data: data.subarray(0, Math.max(0, data.byteLength + edit.delta)) };
        const grown = new Uint8Array(data.byteLength + edit.delta).fill(0x41);
        grown.set(data);
        return { header, data: grown };
      });
    case 'lengthField': {
      if (bytes.byteLength < 8) return bytes;
      const out = bytes.slice();
      new DataView(out.buffer).setBigUint64(0, edit.value, true);
      return out;
    }
    case 'lengthDelta': {
      if (bytes.byteLength < 8) return bytes;
      const out = bytes.slice();
      const view = new DataView(out.buffer);
      const length = view.getBigUint64(0, true) + BigInt(edit.delta);
      view.setBigUint64(0, BigInt.asUintN(64, length), true);
      return out;
    }
    case 'nonUtf8': {
      const parts = split(bytes);
      if (parts === undefined || bytes.byteLength <= 8) return bytes;
      const out = bytes.slice();
      const headerBytes = bytes.byteLength - 8 - parts.data.byteLength;
      out[8 + (edit.at % Math.max(1, headerBytes))] = edit.byte;
      return out;
    }
    case 'truncate':
      return bytes.subarray(0, edit.at % (bytes.byteLength + 1));
    case 'flip': {
      if (bytes.byteLength === 0) return bytes;
      const out = bytes.slice();
      const at = edit.at % out.byteLength;
      out[at] = (out[at] ?? 0) ^ (1 << edit.bit);
      return out;
    }
  }
}

/**
 * Puts a JSON array nested `depth` deep in place of the `tensor` entry's shape (text level: the
 * test's own JSON.stringify would overflow the stack on such a value).
 */
export function deepen(bytes: Uint8Array, tensor: string, depth: number): Uint8Array {
  const parts = split(bytes);
  if (parts === undefined) return bytes;
  const marker = 'DEEP-MARKER-f00d';
  const entry = entryOf(parts.header, tensor) ?? {};
  entry.shape = marker;
  setOwn(parts.header, tensor, entry);
  const text = JSON.stringify(parts.header).replace(JSON.stringify(marker), nestedJsonText(depth));
  return assemble(text, parts.data);
}
