/**
 * Stuck sensor elements (one spatial column in one band, dead at 0, saturated, or frozen) found
 * online in line-scan blocks, and repaired from the neighbouring bands of the same pixel: a camera's defective
 * pixel correction, done where the camera did not do it (docs/maths.md §5).
 */

/** The pixel data a block may hold (float32 spectra, or raw uint16 counts). */
export type BlockData = Float32Array | Uint16Array;

/** A constant run this long (rows, ending at the block's last row) makes an element stuck. */
export const MIN_STUCK_ROWS = 8;

/** How far (bands) a repair looks for a healthy neighbour on each side. */
const NEIGHBOUR_REACH = 2;

/**
 * The stuck elements of one camera (`width x bands`), kept across blocks. An element is stuck in
 * a block when its last {@link MIN_STUCK_ROWS} or more rows hold one value while a spatial
 * neighbour's (same band, column ±1) do not: a dark or saturated band that is flat across the
 * line is not a defect. It is repaired from the row it froze at; once stuck it stays known as
 * defective (repaired in every later block, whole) until `releaseBlocks` blocks in a row show it
 * alive again.
 */
export class StuckElementMap {
  readonly width: number;
  readonly bands: number;
  /** Per element: 1 while known defective. */
  readonly #defective: Uint8Array;
  /** Per element: blocks in a row it looked alive while known defective. */
  readonly #alive: Uint8Array;
  readonly #releaseBlocks: number;
  /** Per element, scratch of {@link StuckElementMap.repair}: first stuck row; 1 where stuck. Reused: nothing allocated per block. */
  readonly #from: Int32Array;
  readonly #stuck: Uint8Array;
  #count = 0;

  /**
   * @param width - pixels per line
   * @param bands - bands per pixel
   * @param releaseBlocks - blocks an element must look alive in a row before it is trusted again
   */
  constructor(width: number, bands: number, releaseBlocks: number) {
    this.width = width;
    this.bands = bands;
    this.#defective = new Uint8Array(width * bands);
    this.#alive = new Uint8Array(width * bands);
    this.#from = new Int32Array(width * bands);
    this.#stuck = new Uint8Array(width * bands);
    this.#releaseBlocks = Math.max(1, Math.min(255, releaseBlocks));
  }

  /** Elements known defective now. */
  get count(): number {
    return this.#count;
  }

  /**
   * Looks at a block (`height` rows of this map's geometry) and returns a repaired copy, or the
   * same data when nothing needed repair. Updates the map.
   */
  repair<T extends BlockData>(data: T, height: number): T {
    const { width, bands } = this;
    const line = width * bands;
    const from = stuckSince(data, height, line, this.#from);
    const stuck = this.#stuck;
    for (let e = 0; e < line; e++) {
      const col = Math.floor(e / bands);
      stuck[e] = from[e]! < height && !neighbourStuck(from, e, col, bands, width, height) ? 1 : 0;
    }
    for (let e = 0; e < line; e++) {
      if (this.#defective[e] === 1) {
        if (stuck[e] === 1) this.#alive[e] = 0;
        else if (++this.#alive[e]! >= this.#releaseBlocks) {
          this.#defective[e] = 0;
          this.#alive[e] = 0;
          this.#count--;
        }
        // Known defective: repaired whole, whether or not it froze again in this block.
        if (this.#defective[e] === 1) from[e] = 0;
        else from[e] = height;
      } else if (stuck[e] === 1) {
        this.#defective[e] = 1;
        this.#count++;
      } else {
        from[e] = height;
      }
    }
    let out: T | undefined;
    for (let e = 0; e < line; e++) {
      if (from[e]! >= height) continue;
      // slice() keeps the array's type: T.
      out ??= data.slice() as T;
      fillFromNeighbours(out, data, e, from[e]!, height, width, bands, this.#defective);
    }
    return out ?? data;
  }
}

/** Writes into `from`, per element, the first row of the constant run that ends at the last row (`height` when shorter than {@link MIN_STUCK_ROWS}). */
function stuckSince(data: BlockData, height: number, line: number, from: Int32Array): Int32Array {
  from.fill(height);
  if (height < MIN_STUCK_ROWS) return from;
  const last = (height - 1) * line;
  const candidates: number[] = [];
  const previous = (height - 2) * line;
  for (let e = 0; e < line; e++) if (data[last + e] === data[previous + e]) candidates.push(e);
  for (const e of candidates) {
    const value = data[last + e];
    let row = height - 2;
    while (row > 0 && data[(row - 1) * line + e] === value) row--;
    if (height - row >= MIN_STUCK_ROWS) from[e] = row;
  }
  return from;
}

function neighbourStuck(
  from: Int32Array,
  e: number,
  col: number,
  bands: number,
  width: number,
  height: number,
): boolean {
  const left = col > 0 ? from[e - bands]! < height : true;
  const right = col < width - 1 ? from[e + bands]! < height : true;
  return left && right;
}

/**
 * Rows `from..height-1` of element `e` get the mean of the nearest healthy bands on either side
 * in the same pixel (spectra are smooth at the band spacing of a hyperspectral camera; a spatial
 * neighbour may be another object, which would leave a streak of mixed spectra).
 */
function fillFromNeighbours(
  out: BlockData,
  data: BlockData,
  e: number,
  from: number,
  height: number,
  width: number,
  bands: number,
  defective: Uint8Array,
): void {
  const band = e % bands;
  const base0 = e - band;
  const healthy = (b: number): boolean => b >= 0 && b < bands && defective[base0 + b] === 0;
  let below = -1;
  let above = -1;
  for (let d = 1; d <= NEIGHBOUR_REACH && (below < 0 || above < 0); d++) {
    if (below < 0 && healthy(band - d)) below = band - d;
    if (above < 0 && healthy(band + d)) above = band + d;
  }
  if (below < 0 && above < 0) return;
  const line = width * bands;
  for (let row = from; row < height; row++) {
    const pixel = row * line + base0;
    const lo = below < 0 ? undefined : data[pixel + below]!;
    const hi = above < 0 ? undefined : data[pixel + above]!;
    // Linear in the band index between the two neighbours (or the one there is).
    out[pixel + band] =
      lo === undefined ? hi! : hi === undefined ? lo : lo + ((hi - lo) * (band - below)) / (above - below);
  }
}
