import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * SHA-256 of a file, streamed (constant memory), as lowercase hex.
 *
 * @example
 * ```ts
 * await sha256File('data/sim/frame-0000.img'); // 'a3f1…'
 * ```
 */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
