import type { StretchBounds } from './stable-stretch.js';

/** A strip to render, sent to the render worker: only the three shown bands, the mask and the scores. */
export interface StripRenderRequest {
  readonly id: number;
  readonly height: number;
  readonly width: number;
  /** `[height * width, 3]` float32: the R, G, B bands of each pixel. */
  readonly rgb: Float32Array;
  readonly mask: Uint8Array;
  readonly scores: Float32Array;
  readonly bounds: StretchBounds;
  readonly heatMax: number;
  readonly maxWidth: number;
}

/** The render worker's answer to a {@link StripRenderRequest}. */
export type StripRenderReply =
  | {
      readonly id: number;
      readonly ok: true;
      readonly rgbPng: Uint8Array;
      readonly heatPng: Uint8Array;
      readonly imageWidth: number;
      readonly imageHeight: number;
      readonly decimation: number;
    }
  | { readonly id: number; readonly ok: false; readonly message: string };
