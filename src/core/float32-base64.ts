/** Float32 values as base64 text and back, exact to the bit (checkpoints carry scores and centres in JSON). */

/** The values of `chunks`, one after the other, as little-endian float32 bytes in base64. */
export function float32Base64(...chunks: readonly Float32Array[]): string {
  const total = chunks.reduce((sum, c) => sum + c.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return Buffer.from(all.buffer, all.byteOffset, all.byteLength).toString('base64');
}

/**
 * The float32 values of {@link float32Base64}'s text.
 *
 * @throws RangeError when the bytes are not a whole number of float32 values
 */
export function float32FromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${bytes.byteLength} bytes are not float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
