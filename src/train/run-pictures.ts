import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { WavelengthUnits } from '../core/frame.js';
import { falseColourRgb } from '../report/false-colour.js';
import { formatScaleValue, heatmapFigure, maskFigure } from '../report/figure.js';
import { type ChartSeries, lineChart } from '../report/line-chart.js';
import { writePng } from '../report/png.js';
import type { RgbaImage } from '../report/rgba-image.js';
import type { EpochRecord } from './trainer.js';

export { FALSE_ALARM_COLOUR, HIT_COLOUR, MISSED_COLOUR } from '../report/figure.js';

function save(file: string, image: RgbaImage): Promise<void> {
  return writePng(file, image.data, image.width, image.height);
}

function seriesOf(history: readonly EpochRecord[], metric: string): ChartSeries | undefined {
  const values = history.map((record) => record.logs[metric] ?? Number.NaN);
  if (!values.some((v) => Number.isFinite(v))) return undefined;
  return { name: metric, values, x: history.map((record) => record.epoch) };
}

/** Titles and axis names of the curves, by file. */
function chartText(title: string, metric: string, logY: boolean) {
  return { title, xLabel: 'epoch', yLabel: logY ? `${metric} (log scale)` : metric };
}

/**
 * Training curves as PNG files in `dir`, each with a title, axis names (x: the epoch, numbered
 * from 1 as in the logs), round ticks and a legend: `curve-loss.png` (loss and val_loss, log
 * scale), `curve-lr.png` (learning rate, log scale) and `curve-<monitor>.png` when a monitored
 * metric other than those is in the logs. Returns the files written.
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
  const charts: [string, string[], boolean, string, string][] = [
    ['curve-loss.png', ['loss', 'val_loss'], true, 'Loss per epoch', 'loss'],
    ['curve-lr.png', ['lr'], true, 'Learning rate per epoch', 'learning rate'],
  ];
  if (monitor !== undefined && !['loss', 'val_loss', 'lr'].includes(monitor)) {
    charts.push([`curve-${monitor}.png`, [monitor], false, `${monitor} per epoch`, monitor]);
  }
  for (const [name, metrics, logY, title, yName] of charts) {
    const series = metrics.map((m) => seriesOf(history, m)).filter((s): s is ChartSeries => s !== undefined);
    const positive = series.every((s) => Array.from(s.values).every((v) => !(v <= 0)));
    if (series.length === 0) continue;
    const file = path.join(dir, name);
    const log = logY && positive;
    await save(file, lineChart(series, { logY: log, ...chartText(title, yName, log) }));
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
  /** Bands of `data` shown as R, G, B (default: chosen from the wavelengths, `chooseRgbBands`). */
  readonly rgbBands?: readonly [number, number, number];
  /** One score per pixel. */
  readonly scores: Float32Array;
  /** The deployed threshold (the heatmap saturates at 2τ). */
  readonly threshold: number;
  /** Ground truth, 1 = anomalous (absent for unlabelled frames). */
  readonly truth?: Uint8Array;
  /** The detector, named in the captions (default `deep-svdd`). */
  readonly detector?: string;
}

/**
 * Pictures of one frame in `dir`: `<name>-rgb.png` (false colour); `<name>-scores.png` (the
 * prediction: the score heatmap, 0 to 2τ, inferno, with a colour bar labelled 0, 2τ and τ,
 * beside the ground truth when there is one, and a caption saying which is which) and
 * `<name>-mask.png` (the decisions at τ against the truth: prediction, truth, and a comparison
 * over the false colour, hits yellow, missed anomalies green, false alarms red, with counts;
 * without ground truth, the flagged pixels red). Returns the files written.
 *
 * @example
 * ```ts
 * declare const picture: FramePictureInput; // a cube, its scores, τ and its mask
 * const files = await writeFramePictures('runs/r1/frames', picture);
 * ```
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
    frame.rgbBands === undefined ? {} : { bands: frame.rgbBands },
  );
  const { truth, threshold } = frame;
  const detector = frame.detector ?? 'deep-svdd';
  const tau = formatScaleValue(threshold);
  const finite = Number.isFinite(threshold);
  const heat = heatmapFigure(frame.scores, frame.height, frame.width, {
    ...(finite && threshold > 0 ? { range: [0, 2 * threshold] as const } : {}),
    ...(finite ? { marks: [{ value: threshold, label: `τ ${tau}` }] } : {}),
    ...(truth === undefined ? {} : { truth }),
    title: `${frame.name}: ${detector} anomaly score`,
    caption: [
      `prediction: ${detector} score of each pixel${finite && threshold > 0 ? ', 0 to 2τ (above: top colour)' : ''}`,
      truth === undefined
        ? 'no ground truth for this cube'
        : "truth: the cube's mask, anomalous pixels white",
    ],
  });
  const flagged = Uint8Array.from(frame.scores, (s) => (s >= threshold ? 1 : 0));
  const mask = maskFigure({
    height: frame.height,
    width: frame.width,
    predicted: flagged,
    ...(truth === undefined ? {} : { truth }),
    background: rgb,
    title: `${frame.name}: decisions at τ ${tau}`,
    caption: [
      `prediction: pixels with ${detector} score ≥ τ ${tau}`,
      truth === undefined ? 'no ground truth for this cube' : "truth: the cube's mask (anomalous pixels)",
    ],
  });
  const files = [`${safe}-rgb.png`, `${safe}-scores.png`, `${safe}-mask.png`].map((f) => path.join(dir, f));
  const [rgbFile, heatFile, maskFile] = files as [string, string, string];
  await save(rgbFile, rgb);
  await save(heatFile, heat);
  await save(maskFile, mask);
  return files;
}
