/**
 * One source of defaults: what `deepSvddPipeline` hands its stages when given no option is
 * `PipelineSettingsSchema` parsed from `{}`, and a run configuration with an empty `pipeline:`
 * section gives the stages the same. Each stage is wrapped in a spy that records its options.
 */
import { EMPTY } from 'rxjs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { backpressure } from '../../operators/backpressure.js';
import { scorerFromBundle } from '../../operators/bundle-scorer.js';
import { decideAnomalies } from '../../operators/decide-anomalies.js';
import { deepSvddPipeline, type PipelineOptions } from '../../operators/deep-svdd-pipeline.js';
import { fusedScorerFromBundle } from '../../operators/fused-scorer-from-bundle.js';
import {
  PIPELINE_DEFAULTS,
  PipelineSettingsSchema,
  resolvePipelineSettings,
} from '../../operators/pipeline-options.js';
import { rejectInvalidFrames } from '../../operators/reject-invalid-frames.js';
import { rollingQuantileThreshold } from '../../operators/rolling-quantile-threshold.js';
import { pipelineOptions } from '../../src/app/service/pipeline-options.js';
import { loadRunConfig, RunConfigSchema } from '../../src/app/service/run-config.js';
import { OptionError } from '../../src/core/options.js';
import { CenterTracker } from '../../src/scoring/center-tracker.js';
import { initEngine } from '../../src/scoring/engine.js';
import { createScorer } from '../../src/scoring/scorer.js';
import { REPO_ROOT } from '../e2e/cli-process.js';
import { tinyDeepSvddBundle } from '../helpers/tiny-model.js';

vi.mock('../../operators/rolling-quantile-threshold.js', async (original) => {
  const actual = await original<typeof import('../../operators/rolling-quantile-threshold.js')>();
  return { ...actual, rollingQuantileThreshold: vi.fn(actual.rollingQuantileThreshold) };
});
vi.mock('../../operators/decide-anomalies.js', async (original) => {
  const actual = await original<typeof import('../../operators/decide-anomalies.js')>();
  return { ...actual, decideAnomalies: vi.fn(actual.decideAnomalies) };
});
vi.mock('../../operators/backpressure.js', async (original) => {
  const actual = await original<typeof import('../../operators/backpressure.js')>();
  return { ...actual, backpressure: vi.fn(actual.backpressure) };
});
vi.mock('../../operators/reject-invalid-frames.js', async (original) => {
  const actual = await original<typeof import('../../operators/reject-invalid-frames.js')>();
  return { ...actual, rejectInvalidFrames: vi.fn(actual.rejectInvalidFrames) };
});
vi.mock('../../operators/fused-scorer-from-bundle.js', async (original) => {
  const actual = await original<typeof import('../../operators/fused-scorer-from-bundle.js')>();
  return { ...actual, fusedScorerFromBundle: vi.fn(actual.fusedScorerFromBundle) };
});
vi.mock('../../src/scoring/scorer.js', async (original) => {
  const actual = await original<typeof import('../../src/scoring/scorer.js')>();
  return { ...actual, createScorer: vi.fn(actual.createScorer) };
});
vi.mock('../../operators/bundle-scorer.js', async (original) => {
  const actual = await original<typeof import('../../operators/bundle-scorer.js')>();
  return { ...actual, scorerFromBundle: vi.fn(actual.scorerFromBundle) };
});

beforeAll(async () => {
  await initEngine();
});
afterEach(() => {
  vi.clearAllMocks();
});

/** The settings each stage got from the pipeline built last (applied to an empty stream). */
function stageSettings(options?: PipelineOptions) {
  const bundle = tinyDeepSvddBundle();
  deepSvddPipeline(bundle, options)(EMPTY);
  const threshold = vi.mocked(rollingQuantileThreshold).mock.calls[0]?.[0];
  const decide = vi.mocked(decideAnomalies).mock.calls[0]?.[0];
  const queue = vi.mocked(backpressure).mock.calls[0]?.[1];
  const validation = vi.mocked(rejectInvalidFrames).mock.calls[0]?.[0];
  const fused = vi.mocked(fusedScorerFromBundle).mock.calls[0]?.[1];
  const tfjs = vi.mocked(scorerFromBundle).mock.calls[0]?.[1];
  const made = vi.mocked(createScorer).mock.calls[0]?.[1];
  const scorer = fused ?? tfjs;
  return {
    bundle,
    threshold: {
      q: threshold?.q,
      windowFrames: threshold?.window.frames,
      windowSeconds: threshold?.window.seconds,
      margin: threshold?.marginFactor,
      sketch: threshold?.sketch,
      minSamples: threshold?.minSamples,
      scale: threshold?.scale,
    },
    center: { mode: scorer?.center?.mode, alpha: scorer?.center?.alpha },
    decide: {
      minPixels: decide?.minPixels,
      minArea: decide?.minArea,
      connectivity: decide?.connectivity,
      assemble: decide?.assemble,
    },
    backpressure: { policy: queue?.policy, capacity: queue?.capacity },
    maxValues: validation?.maxValues,
    engine: fused === undefined ? 'tfjs' : 'onnx',
    scorerThreads: made?.threads,
    scorerWorkers: made?.workers,
  };
}

describe('deepSvddPipeline defaults', () => {
  const defaults = PipelineSettingsSchema.parse({});

  it('PIPELINE_DEFAULTS is the schema parsed from {}', () => {
    expect(PIPELINE_DEFAULTS).toEqual(defaults);
    expect(resolvePipelineSettings({})).toEqual(defaults);
  });

  it('hands every stage the schema defaults when given no option', () => {
    const used = stageSettings();
    const { calibration } = used.bundle;
    expect(used.threshold).toEqual({
      ...defaults.threshold,
      q: calibration.quantile,
      margin: calibration.margin,
      mode: undefined,
      // The tiny bundle's calibration stores no median: the default basis falls back to the tail.
      scaleQuantile: undefined,
      scale: undefined,
    });
    expect(calibration.scoreQuantiles['0.5']).toBeUndefined();
    expect(defaults.threshold.mode).toBe('rolling'); // the rolling operator was the one built
    expect(used.center).toEqual(defaults.center);
    expect(used.decide).toEqual(defaults.decide);
    expect(used.backpressure).toEqual(defaults.backpressure);
    expect(used.maxValues).toBe(defaults.maxValues);
    expect(used.engine).toBe('onnx'); // `auto` on the tiny bundle
    expect(used.scorerThreads).toBe(defaults.scorerThreads);
    expect(used.scorerWorkers).toBe(defaults.scorerWorkers);
  });

  it('hands the tfjs scorer the default centre too', () => {
    expect(stageSettings({ scorer: 'tfjs' }).center).toEqual(defaults.center);
  });

  it('gives a service with an empty pipeline section the same settings as the bare operator', () => {
    const config = RunConfigSchema.parse({ source: { kind: 'simulated' }, model: { path: 'm' } });
    const {
      hooks: _hooks,
      earlyRows: _rows,
      scoreWith: _scorer,
      ...settings
    } = pipelineOptions(config.pipeline, {});
    expect(resolvePipelineSettings(settings)).toEqual(defaults);
    const bare = stageSettings();
    vi.clearAllMocks();
    const service = stageSettings(pipelineOptions(config.pipeline, {}));
    expect({ ...service, bundle: undefined }).toEqual({ ...bare, bundle: undefined });
  });

  it('keeps minArea unset when only minPixels is given, as the service always did', () => {
    expect(stageSettings({ decide: { minPixels: 10 } }).decide).toEqual({
      ...defaults.decide,
      minPixels: 10,
      minArea: undefined,
    });
  });

  it('refuses a bad setting with an OptionError naming it', () => {
    expect(() => deepSvddPipeline(tinyDeepSvddBundle(), { threshold: { q: 1.5 } })).toThrow(OptionError);
    expect(() => deepSvddPipeline(tinyDeepSvddBundle(), { threshold: { q: 1.5 } })).toThrow(
      /deepSvddPipeline\.threshold\.q = 1\.5/,
    );
  });
});

describe("the defaults of the pipeline's parts equal the schema's", () => {
  const defaults = PipelineSettingsSchema.parse({});

  it("the centre tracker (fused scorers and trackCenter) moves by the schema's α", () => {
    const tracker = new CenterTracker({ center: Float32Array.of(0.5, -1), mode: 'ema' });
    expect(tracker.alpha).toBe(defaults.center.alpha);
  });

  it("an in-thread scorer session runs the schema's intra-op thread count", async () => {
    const scorer = createScorer(tinyDeepSvddBundle(), { engine: 'onnx', workers: 0 });
    try {
      expect(scorer.runner?.describe).toBe(`in-process, ${defaults.scorerThreads} intra-op thread(s)`);
    } finally {
      await scorer.close();
    }
  });
});

describe('configs/run/production.yaml', () => {
  it('states the pipeline defaults as they are', async () => {
    const production = await loadRunConfig(`${REPO_ROOT}/configs/run/production.yaml`);
    const { earlyRows, ...settings } = production.pipeline;
    expect(settings).toEqual(PIPELINE_DEFAULTS);
    expect(earlyRows).toBe(true);
  });
});
