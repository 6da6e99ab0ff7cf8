import { OptionError } from '../core/options.js';

/** Class ids of a binary mask (ABU scenes): 0 background, 1 anomaly. */
export const BINARY_NORMAL_CLASS_IDS: readonly number[] = [0];
/** The anomaly id of a binary mask. */
export const BINARY_ANOMALY_CLASS_IDS: readonly number[] = [1];

/**
 * How label ids map to normal / anomalous, with cuvis's `BinaryAnomalyLabelMapper` semantics:
 * with `anomalyClassIds` given, exactly those ids are anomalous (every other id counts as
 * normal in evaluation); without it, every id not in `normalClassIds` is anomalous.
 *
 * Training is stricter: it uses only pixels whose id is listed in `normalClassIds`. Pixels of
 * any other id that is not anomalous either (e.g. `0` = unlabelled in the simulator's masks) are
 * never trained on, but are scored as normal pixels in evaluation (a detector must stay quiet on
 * them too).
 *
 * @example
 * ```ts
 * const classes = new ClassMap([1, 2, 4], [3, 5, 6, 7]);
 * classes.isAnomaly(3); // true
 * classes.isTrainable(0); // false (unlabelled)
 * ```
 */
export class ClassMap {
  /** Ids trained on. */
  readonly normalClassIds: readonly number[];
  /** Ids that are anomalous; `undefined`: every id not normal. */
  readonly anomalyClassIds: readonly number[] | undefined;
  private readonly normal: ReadonlySet<number>;
  private readonly anomalous: ReadonlySet<number> | undefined;

  /** @throws {@link OptionError} when an id is not an integer in 0..255 or is in both lists */
  constructor(normalClassIds: readonly number[], anomalyClassIds?: readonly number[]) {
    check('normalClassIds', normalClassIds);
    if (anomalyClassIds !== undefined) check('anomalyClassIds', anomalyClassIds);
    if (normalClassIds.length === 0)
      throw new OptionError('training', 'normalClassIds', '[]', 'must list at least one id');
    const both = normalClassIds.filter((id) => anomalyClassIds?.includes(id));
    if (both.length > 0)
      throw new OptionError(
        'training',
        'anomalyClassIds',
        `[${anomalyClassIds}]`,
        `ids ${both} are also normal`,
      );
    this.normalClassIds = [...normalClassIds];
    this.anomalyClassIds = anomalyClassIds === undefined ? undefined : [...anomalyClassIds];
    this.normal = new Set(normalClassIds);
    this.anomalous = anomalyClassIds === undefined ? undefined : new Set(anomalyClassIds);
  }

  /** Whether pixels of class `id` are anomalous (ground truth for metrics). */
  isAnomaly(id: number): boolean {
    return this.anomalous === undefined ? !this.normal.has(id) : this.anomalous.has(id);
  }

  /** Whether pixels of class `id` are used for training (listed as normal). */
  isTrainable(id: number): boolean {
    return this.normal.has(id);
  }

  /** The ground-truth mask of a label map: 1 where anomalous. */
  truth(labels: Uint8Array): Uint8Array {
    const table = this.table((id) => this.isAnomaly(id));
    const out = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) out[i] = table[labels[i] as number] as number;
    return out;
  }

  /** The training mask of a label map: 1 where the pixel is trained on. */
  trainableMask(labels: Uint8Array): Uint8Array {
    const table = this.table((id) => this.isTrainable(id));
    const out = new Uint8Array(labels.length);
    for (let i = 0; i < labels.length; i++) out[i] = table[labels[i] as number] as number;
    return out;
  }

  /**
   * The trainable pixels of a block (`[pixels, bands]` pixel-major): all of them when there are
   * no labels, else a compact copy of those whose label is normal.
   */
  trainablePixels(data: Float32Array, bands: number, labels: Uint8Array | undefined): Float32Array {
    if (labels === undefined) return data;
    const table = this.table((id) => this.isTrainable(id));
    let kept = 0;
    for (let p = 0; p < labels.length; p++) kept += table[labels[p] as number] as number;
    if (kept === labels.length) return data;
    const out = new Float32Array(kept * bands);
    let o = 0;
    for (let p = 0; p < labels.length; p++) {
      if (table[labels[p] as number] === 0) continue;
      out.set(data.subarray(p * bands, (p + 1) * bands), o);
      o += bands;
    }
    return out;
  }

  /** Plain JSON form, for model cards. */
  toJSON(): { normalClassIds: number[]; anomalyClassIds: number[] | null } {
    return {
      normalClassIds: [...this.normalClassIds],
      anomalyClassIds: this.anomalyClassIds === undefined ? null : [...this.anomalyClassIds],
    };
  }

  private table(test: (id: number) => boolean): Uint8Array {
    const table = new Uint8Array(256);
    for (let id = 0; id < 256; id++) table[id] = test(id) ? 1 : 0;
    return table;
  }
}

function check(option: string, ids: readonly number[]): void {
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id > 255);
  if (bad !== undefined)
    throw new OptionError('training', option, `[${ids}]`, `${bad} is not a class id in 0..255`);
}
