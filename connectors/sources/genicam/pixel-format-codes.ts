/**
 * PFNC pixel format codes (as `arv_buffer_get_image_pixel_format` returns them) and their GenICam
 * names (A:src/arvenums.h; Mono12p from the PFNC, which Aravis 0.8.26 lacks).
 */

/** GenICam names by PFNC code, for the formats a line-scan camera sends. */
export const PIXEL_FORMAT_BY_CODE: ReadonlyMap<number, string> = new Map([
  [0x01080001, 'Mono8'],
  [0x01100003, 'Mono10'],
  [0x01100005, 'Mono12'],
  [0x010c0006, 'Mono12Packed'],
  [0x010c0047, 'Mono12p'],
  [0x01100007, 'Mono16'],
  [0x01080008, 'BayerGR8'],
  [0x01080009, 'BayerRG8'],
  [0x0108000a, 'BayerGB8'],
  [0x0108000b, 'BayerBG8'],
  [0x02180014, 'RGB8'],
]);

/**
 * The name of PFNC `code`: from the table, else `fallback` (the camera's PixelFormat read back),
 * else the code in hex.
 *
 * @example
 * ```ts
 * pixelFormatName(0x01100007); // 'Mono16'
 * pixelFormatName(0x12345678, 'Mono14'); // 'Mono14'
 * ```
 */
export function pixelFormatName(code: number, fallback?: string): string {
  return PIXEL_FORMAT_BY_CODE.get(code) ?? fallback ?? `0x${code.toString(16).padStart(8, '0')}`;
}
