import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { WavelengthUnits } from '../core/frame.js';
import { INFERNO, scoreHeatmap } from '../report/colormap.js';
import { falseColourRgb } from '../report/false-colour.js';
import { type ChartSeries, lineChart } from '../report/line-chart.js';
import { overlayMask } from '../report/overlay.js';
import { writePng } from '../report/png.js';
import type { RgbaImage } from '../report/rgba-image.js';
import type { EpochRecord } from './trainer.js';

/** Mask pictures: anomalous and flagged (true positive), yellow. */
export const HIT_COLOUR = [255, 230, 0] as const;
/** Mask pictures: anomalous but not flagged (missed), green. */
export const MISSED_COLOUR = [0, 220, 0] as const;
/** Mask pictures: flagged but normal (false alarm), red. */
export const FALSE_ALARM_COLOUR = [255, 0, 0] as const;

function save(file: string, image: RgbaImage): Promise<void> {
  return writePng(file, image.data, image.width, image.height);
}

function seriesOf(history: readonly EpochRecord[], metric: string): ChartSeries | undefined {
  const values = history.map((record) => record.logs[metric] ?? Number.NaN);
  if (!values.some((v) => Number.isFinite(v))) return undefined;
  return { name: metric, values, x: history.map((record) => record.epoch + 1) };
}

/**
 * Training curves as PNG files in `dir`: `curve-loss.png` (loss and val_loss, log scale),
 * `curve-lr.png` (learning rate, log scale) and `curve-<monitor>.png` when a monitored metric
 * other than those is in the logs. Returns the files written.
 *
 * @example
 * ```ts
 * import { trainingStages } from './operator-stages.js';
 * import { trainRun } from './train-run.js';
 * const result = await trainRun(trainConfig, { stages: trainingStages });
 * await writeTrainingCurves(result.runDir, result.history, 'val_auroc');
 * ```
 */
export async function writeTrainingCurves(
  dir: string,
  history: readonly EpochRecord[],
  monitor?: string,
): Promise<string[]> {
  if (history.length === 0) return [];
  const written: string[] = [];
  const charts: [string, string[], boolean][] = [
    ['curve-loss.png', ['loss', 'val_loss'], true],
    ['curve-lr.png', ['lr'], true],
  ];
  if (monitor !== undefined && !['loss', 'val_loss', 'lr'].includes(monitor)) {
    charts.push([`curve-${monitor}.png`, [monitor], false]);
  }
  for (const [name, metrics, logY] of charts) {
    const series = metrics.map((m) => seriesOf(history, m)).filter((s): s is ChartSeries => s !== undefined);
    const positive = series.every((s) => Array.from(s.values).every((v) => !(v <= 0)));
    if (series.length === 0) continue;
    const file = path.join(dir, name);
    await save(file, lineChart(series, { logY: logY && positive }));
    written.push(file);
  }
  return written;
}

/** One whole frame to draw: its spectra, scores and masks. */
export interface FramePictureInput {
  /** File-name stem, e.g. the cube's name. */
  readonly name: string;
  readonly height: number;
  readonly width: number;
  readonly bands: number;
  /** `[height * width, bands]` BIP. */
  readonly data: Float32Array;
  readonly wavelengths: Float32Array;
  readonly wavelengthUnits: WavelengthUnits;
  /** One score per pixel. */
  readonly scores: Float32Array;
  /** The deployed threshold (the heatmap saturates at 2τ). */
  readonly threshold: number;
  /** Ground truth, 1 = anomalous (absent for unlabelled frames). */
  readonly truth?: Uint8Array;
}

/**
 * Pictures of one validation frame in `dir`: `<name>-rgb.png` (false colour),
 * `<name>-scores.png` (score heatmap, 0 to 2τ, inferno) and `<name>-mask.png` (the false colour
 * with the decisions at τ over it: hits yellow, missed anomalies green, false alarms red; without
 * ground truth every flagged pixel is red).
 * Returns the files written.
 */
export async function writeFramePictures(dir: string, frame: FramePictureInput): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const safe = frame.name.replace(/[^A-Za-z0-9._-]+/g, '_');
  const rgb = falseColourRgb(
    frame.data,
    frame.height,
    frame.width,
    frame.bands,
    frame.wavelengths,
    frame.wavelengthUnits,
  );
  const upper = frame.threshold > 0 ? 2 * frame.threshold : undefined;
  const heat = scoreHeatmap(frame.scores, frame.height, frame.width, {
    colormap: INFERNO,
    ...(upper === undefined ? {} : { range: [0, upper] as const }),
  });
  const { truth } = frame;
  const flagged = frame.scores.map((s) => (s >= frame.threshold ? 1 : 0));
  const where = (test: (flag: boolean, anomalous: boolean) => boolean): Uint8Array =>
    Uint8Array.from(flagged, (flag, i) => (test(flag === 1, (truth?.[i] ?? 0) !== 0) ? 1 : 0));
  let mask = overlayMask(
    rgb,
    where((flag, anomalous) => flag && anomalous),
    HIT_COLOUR,
    0.8,
  );
  mask = overlayMask(
    mask,
    where((flag, anomalous) => !flag && anomalous),
    MISSED_COLOUR,
    0.8,
  );
  mask = overlayMask(
    mask,
    where((flag, anomalous) => flag && !anomalous),
    FALSE_ALARM_COLOUR,
    0.8,
  );
  const files = [`${safe}-rgb.png`, `${safe}-scores.png`, `${safe}-mask.png`].map((f) => path.join(dir, f));
  const [rgbFile, heatFile, maskFile] = files as [string, string, string];
  await save(rgbFile, rgb);
  await save(heatFile, heat);
  await save(maskFile, mask);
  return files;
}
