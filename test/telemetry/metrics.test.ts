import { describe, expect, it } from 'vitest';
import { DeadLetterSink } from '../../connectors/sinks/dead-letter.js';
import { PipelineTelemetry } from '../../src/app/service/pipeline-telemetry.js';
import { ServiceStats } from '../../src/app/service/service-stats.js';
import { createLogger } from '../../src/telemetry/logger.js';
import {
  createMetrics,
  METRIC_NAMES,
  METRIC_PREFIX,
  STAGE_DURATION_BUCKETS,
} from '../../src/telemetry/metrics.js';

describe('createMetrics', () => {
  it('registers every docs/metrics.md metric under the cubestream_ prefix, plus default process metrics', async () => {
    const metrics = createMetrics();
    const text = await metrics.registry.metrics();
    for (const name of METRIC_NAMES) {
      expect(text, name).toContain(`# TYPE ${METRIC_PREFIX}${name} `);
    }
    expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it('uses the exact docs/metrics.md names and label sets', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.framesReceived.inc({ camera: 'c' });
    m.framesDropped.inc({ camera: 'c', reason: 'backpressure' });
    m.framesRejected.inc({ camera: 'c', reason: 'shape' });
    m.stageDuration.observe({ stage: 'project' }, 0.002);
    m.frameLatency.observe({ camera: 'c' }, 0.05);
    m.pixelsScored.inc(80_000);
    m.pixelsScoredEarly.inc({ camera: 'c' }, 20_000);
    m.anomalousPixelsRatio.set({ camera: 'c' }, 0.01);
    m.decisions.inc({ camera: 'c', anomalous: 'true' });
    m.threshold.set({ camera: 'c' }, 0.7);
    m.centerDrift.set({ camera: 'c' }, 0.001);
    m.queueDepth.set({ camera: 'c' }, 2);
    m.publishErrors.inc({ sink: 'mqtt' });
    m.brokerConnected.set({ sink: 'mqtt' }, 1);
    m.setModelInfo('v1', 'abc');
    m.setEngineInfo({ scoring: 'onnx', training: 'onnx', tfjs: 'wasm' });
    const text = await m.registry.metrics();
    const expected = [
      'cubestream_frames_received_total{camera="c"} 1',
      'cubestream_frames_dropped_total{camera="c",reason="backpressure"} 1',
      'cubestream_frames_rejected_total{camera="c",reason="shape"} 1',
      'cubestream_stage_duration_seconds_count{stage="project"} 1',
      'cubestream_frame_latency_seconds_count{camera="c"} 1',
      'cubestream_pixels_scored_total 80000',
      'cubestream_pixels_scored_early_total{camera="c"} 20000',
      'cubestream_anomalous_pixels_ratio{camera="c"} 0.01',
      'cubestream_decisions_total{camera="c",anomalous="true"} 1',
      'cubestream_threshold{camera="c"} 0.7',
      'cubestream_center_drift{camera="c"} 0.001',
      'cubestream_queue_depth{camera="c"} 2',
      'cubestream_publish_errors_total{sink="mqtt"} 1',
      'cubestream_broker_connected{sink="mqtt"} 1',
      'cubestream_model_info{version="v1",sha256="abc"} 1',
      'cubestream_engine_info{scoring="onnx",training="onnx",tfjs="wasm"} 1',
    ];
    for (const line of expected) expect(text).toContain(line);
  });

  it('gives each call its own registry', async () => {
    const a = createMetrics({ defaultMetrics: false });
    const b = createMetrics({ defaultMetrics: false });
    a.framesReceived.inc({ camera: 'only-a' });
    expect(await a.registry.metrics()).toContain('camera="only-a"');
    expect(await b.registry.metrics()).not.toContain('camera="only-a"');
  });

  it('keeps a single model_info series when the model changes', async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.setModelInfo('v1', 'aaa');
    m.setModelInfo('v2', 'bbb');
    const text = await m.registry.metrics();
    expect(text).toContain('cubestream_model_info{version="v2",sha256="bbb"} 1');
    expect(text).not.toContain('version="v1"');
  });

  it('uses exponential stage buckets from 0.5 ms up to about 8 s', async () => {
    expect(STAGE_DURATION_BUCKETS[0]).toBe(0.0005);
    expect(STAGE_DURATION_BUCKETS.at(-1)).toBeCloseTo(8.192, 6);
    const m = createMetrics({ defaultMetrics: false });
    m.stageDuration.observe({ stage: 's' }, 0.0004);
    const text = await m.registry.metrics();
    expect(text).toContain('cubestream_stage_duration_seconds_bucket{le="0.0005",stage="s"} 1');
  });

  it('adds default labels to every series', async () => {
    const m = createMetrics({ defaultMetrics: false, defaultLabels: { instance: 'line-3' } });
    m.pixelsScored.inc();
    expect(await m.registry.metrics()).toContain('cubestream_pixels_scored_total{instance="line-3"} 1');
  });

  it('counts early-scored pixels per camera from the pipeline onScored hook, from the first block', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const telemetry = new PipelineTelemetry({
      metrics,
      stats: new ServiceStats(),
      logger: createLogger({ level: 'silent' }),
      deadLetters: new DeadLetterSink([]),
      cameras: ['cam0'],
      calibratedThreshold: 50,
    });
    telemetry.hooks.onScored?.({ cameraId: 'cam0', pixels: 256, earlyPixels: 0 });
    expect(await metrics.registry.metrics()).toContain(
      'cubestream_pixels_scored_early_total{camera="cam0"} 0',
    );
    telemetry.hooks.onScored?.({ cameraId: 'cam0', pixels: 256, earlyPixels: 96 });
    telemetry.hooks.onScored?.({ cameraId: 'cam0', pixels: 256, earlyPixels: 32 });
    telemetry.hooks.onScored?.({ cameraId: 'cam1', pixels: 256, earlyPixels: 64 });
    const text = await metrics.registry.metrics();
    expect(text).toContain('cubestream_pixels_scored_early_total{camera="cam0"} 128');
    expect(text).toContain('cubestream_pixels_scored_early_total{camera="cam1"} 64');
  });

  it('exports every labelled series of a known camera from the start, before any frame', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const telemetry = new PipelineTelemetry({
      metrics,
      stats: new ServiceStats(),
      logger: createLogger({ level: 'silent' }),
      deadLetters: new DeadLetterSink([]),
      cameras: ['cam0', 'cam1'],
      calibratedThreshold: 52.5,
    });
    let text = await metrics.registry.metrics();
    for (const camera of ['cam0', 'cam1']) {
      for (const line of [
        `cubestream_frames_received_total{camera="${camera}"} 0`,
        `cubestream_decisions_total{camera="${camera}",anomalous="true"} 0`,
        `cubestream_frames_dropped_total{camera="${camera}",reason="queue_full_oldest"} 0`,
        `cubestream_frames_rejected_total{camera="${camera}",reason="camera"} 0`,
        `cubestream_source_connected{camera="${camera}"} 0`,
        `cubestream_threshold_calibrated{camera="${camera}"} 52.5`,
        `cubestream_queue_depth{camera="${camera}"} 0`,
      ])
        expect(text).toContain(line);
    }
    expect(text).toContain('cubestream_frames_rejected_total{camera="_unknown",reason="decode"} 0');
    expect(text).not.toContain('camera="all"');

    telemetry.sourceState('running');
    telemetry.hooks.onQueueDepth?.(3);
    text = await metrics.registry.metrics();
    expect(text).toContain('cubestream_source_connected{camera="cam1"} 1');
    expect(text).toContain('cubestream_queue_depth{camera="cam0"} 3');
    expect(text).toContain('cubestream_queue_depth{camera="cam1"} 3');
    expect(text).not.toContain('cubestream_last_frame_timestamp_seconds{camera="cam0"}');
    telemetry.sourceState('error');
    expect(await metrics.registry.metrics()).toContain('cubestream_source_connected{camera="cam0"} 0');
  });
});
