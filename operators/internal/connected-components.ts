import type { Blob } from '../../src/core/decision.js';

/** Pixel adjacency: 4 (edges) or 8 (edges and corners). */
export type Connectivity = 4 | 8;

function find(parent: Int32Array, label: number): number {
  while (parent[label] !== label) {
    const up = parent[parent[label] as number] as number;
    parent[label] = up; // path halving
    label = up;
  }
  return label;
}

function union(parent: Int32Array, a: number, b: number): number {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return ra;
  const root = Math.min(ra, rb);
  parent[Math.max(ra, rb)] = root;
  return root;
}

/** Joins a neighbour's label into the pixel's (0 = none yet); returns the pixel's label. */
function join(parent: Int32Array, label: number, other: number): number {
  if (other === 0) return label;
  return label === 0 ? find(parent, other) : union(parent, label, other);
}

/**
 * The connected regions of a row-major `height x width` mask (non-zero = set), by two-pass
 * labelling with union-find (path halving): near-linear in the pixel count. Blobs come in
 * raster order of their first pixel, with the bounding box in whole-frame coordinates
 * (`y` + `rowOffset`), the pixel count and the highest score inside.
 *
 * @example
 * ```ts
 * connectedComponents(Uint8Array.of(1, 0, 0, 1), Float32Array.of(5, 0, 0, 7), 2, 2, 8)
 * // [{ x: 0, y: 0, w: 2, h: 2, area: 2, maxScore: 7 }] (diagonal neighbours: one blob with 8, two with 4)
 * ```
 */
export function connectedComponents(
  mask: Uint8Array,
  scores: ArrayLike<number>,
  height: number,
  width: number,
  connectivity: Connectivity,
  rowOffset = 0,
): Blob[] {
  const labels = new Int32Array(height * width);
  // A new label needs an unset pixel to its left: at most ceil(width / 2) per row.
  const parent = new Int32Array(Math.ceil(width / 2) * height + 1);
  let next = 1;
  const corners = connectivity === 8;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const i = row + x;
      if (mask[i] === 0) continue;
      let label = 0;
      if (x > 0) label = join(parent, label, labels[i - 1] as number);
      if (y > 0) {
        label = join(parent, label, labels[i - width] as number);
        if (corners && x > 0) label = join(parent, label, labels[i - width - 1] as number);
        if (corners && x < width - 1) label = join(parent, label, labels[i - width + 1] as number);
      }
      if (label === 0) {
        label = next++;
        parent[label] = label;
      }
      labels[i] = label;
    }
  }
  const blobOf = new Int32Array(next).fill(-1);
  const blobs: Blob[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const label = labels[i] as number;
      if (label === 0) continue;
      const root = find(parent, label);
      let id = blobOf[root] as number;
      const score = scores[i] as number;
      if (id < 0) {
        id = blobs.length;
        blobOf[root] = id;
        blobs.push({ x, y, w: x, h: y, area: 0, maxScore: score });
      }
      // While labelling, w and h hold the right and bottom edges; converted below.
      const blob = blobs[id] as Blob;
      if (x < blob.x) blob.x = x;
      if (x > blob.w) blob.w = x;
      if (y > blob.h) blob.h = y;
      if (score > blob.maxScore) blob.maxScore = score;
      blob.area++;
    }
  }
  for (const blob of blobs) {
    blob.w = blob.w - blob.x + 1;
    blob.h = blob.h - blob.y + 1;
    blob.y += rowOffset;
  }
  return blobs;
}
