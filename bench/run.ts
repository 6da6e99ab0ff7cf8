import { loadavg } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { env as ortEnv } from 'onnxruntime-node';
import { isDriftScenario } from '../connectors/sources/simulator/drift.js';
import { initEngine } from '../src/scoring/engine.js';
import { DEFAULT_POOL_WORKERS } from '../src/scoring/onnx/pool/ort-worker-pool.js';
import { benchArgs } from './cli-args.js';
import { type DriftResult, runDrift } from './drift-scenario.js';
import { FX10, runFx10 } from './fx10-scenario.js';
import { runGenicam } from './genicam-scenario.js';
import type { BenchEngine } from './pipelines.js';
import { runScaleout, type ScaleoutResult } from './scaleout-scenario.js';
import { formatResult, round, type ScenarioResult } from './scenario-result.js';
import { syntheticCube } from './synthetic-cube.js';
import { syntheticModel } from './synthetic-model.js';
import { runTrain, type TrainResult } from './train-scenario.js';
import { runXmr } from './xmr-scenario.js';

const USAGE = `npm run bench -- [--json] [--engine tfjs|onnx|both] [--scenario xmr,fx10,train,genicam,drift,scaleout]
  [--cubes 2] [--xmr-width 1000] [--seconds 10] [--train-seconds 5] [--workers 2] [--threads 2] [--no-spin]
  [--chunk 8192] [--fx10-max-nm 772] [--whole-blocks] [--genicam-loss 0] [--genicam-packet-size 9000]
  (default scenarios: xmr,fx10,train; genicam needs Aravis's fake camera and tools:
   apt-get install aravis-tools libaravis-0.8-0; it scores with 1 worker unless --workers is given,
   and streams jumbo packets on both sides: --genicam-packet-size 0 keeps the camera's 1400 bytes)
  (--fx10-max-nm 772 keeps 27 FX10 bands: the cuvis default network's 27 -> 128 -> 32;
   --whole-blocks: fx10 scores a block only once complete, not its rows as they arrive)
  (--xmr-width 1024 gives the 64x1024x61 blocks of the operators issue)
  [--drift-seconds 3600] [--drift-rows 32] [--drift-scenarios clean,lamp-step,...] [--out runs/drift-<time>]
  (drift: a simulated hour per drift scenario, one block a second, four pipeline variants side by
   side against the simulator's truth; PNG plots go to --out)
  [--scaleout-blocks 500]
  (scaleout: cubestream run workers with camera leases on a nats-server it starts; blocks/s with
   1, 2 and 3 workers, 4 cameras x N blocks each, then the takeover time after a kill -9)`;

const SCENARIOS = ['xmr', 'fx10', 'train', 'genicam', 'drift', 'scaleout'] as const;
type Scenario = (typeof SCENARIOS)[number];
/** Run without --scenario: all but genicam (it needs Aravis's fake camera) and drift (its own 10 minutes). */
const DEFAULT_SCENARIOS: readonly Scenario[] = ['xmr', 'fx10', 'train'];

const { fail, positive } = benchArgs('bench', USAGE);

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    engine: { type: 'string', default: 'both' },
    scenario: { type: 'string', default: DEFAULT_SCENARIOS.join(',') },
    cubes: { type: 'string' },
    'xmr-width': { type: 'string' },
    seconds: { type: 'string' },
    'train-seconds': { type: 'string' },
    workers: { type: 'string' },
    'fx10-max-nm': { type: 'string' },
    threads: { type: 'string' },
    'no-spin': { type: 'boolean', default: false },
    'whole-blocks': { type: 'boolean', default: false },
    chunk: { type: 'string' },
    'genicam-loss': { type: 'string' },
    'genicam-packet-size': { type: 'string' },
    'drift-seconds': { type: 'string' },
    'drift-rows': { type: 'string' },
    'drift-scenarios': { type: 'string' },
    'scaleout-blocks': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const engines: BenchEngine[] =
  values.engine === 'both'
    ? ['tfjs', 'onnx']
    : values.engine === 'tfjs' || values.engine === 'onnx'
      ? [values.engine]
      : fail(`--engine = ${JSON.stringify(values.engine)}`);
const scenarios = (values.scenario ?? '').split(',').filter((s) => s !== '') as Scenario[];
for (const s of scenarios) if (!SCENARIOS.includes(s)) fail(`unknown scenario ${JSON.stringify(s)}`);
const cubeCount = Math.round(positive('cubes', values.cubes, 2));
const xmrWidth = Math.round(positive('xmr-width', values['xmr-width'], 1000));
const seconds = positive('seconds', values.seconds, 10);
const trainSeconds = positive('train-seconds', values['train-seconds'], 5);
const threads = Math.round(positive('threads', values.threads, 2));
const workers =
  values.workers === '0' ? 0 : Math.round(positive('workers', values.workers, DEFAULT_POOL_WORKERS));
const ort = {
  threads,
  workers,
  ...(values['no-spin'] ? { spinning: false } : {}),
  ...(values.chunk === undefined ? {} : { chunkPixels: Math.round(positive('chunk', values.chunk, 8192)) }),
};

const log = (line: string): void => {
  // Human-readable lines go to stderr with --json, so stdout ends with the JSON line alone.
  (values.json ? console.error : console.log)(line);
};

const engine = await initEngine();
const scoringOn =
  workers === 0
    ? `in-thread session, ${threads} intra-op threads${values['no-spin'] ? ', no spinning' : ''}`
    : `${workers} worker threads x 1 intra-op thread`;
const backend = `tfjs-${engine.backend}${engine.wasmSimd ? ' (simd, 1 thread)' : ''} | onnxruntime-node ${ortEnv.versions.node ?? '?'} cpu (scoring: ${scoringOn}, ${ort.chunkPixels === undefined ? 'chunks of 8,192 px at 61 uint16 bands, 4,096 at 224' : `${ort.chunkPixels}-pixel chunks`}; training: ${threads} intra-op threads)`;
log(
  `backend: ${backend}; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);

const results: ScenarioResult[] = [];
const train: TrainResult[] = [];

if (scenarios.includes('xmr') || scenarios.includes('train')) {
  let t = performance.now();
  const cubes = Array.from({ length: cubeCount }, (_, i) =>
    syntheticCube({ height: 1080, width: xmrWidth, bands: 61, minNm: 430, maxNm: 910, seed: i + 1 }),
  );
  const first = cubes[0];
  if (first === undefined) throw fail('--cubes must be >= 1');
  const model = syntheticModel(first.data, first.wavelengths, { minNm: 700 });
  log(
    `xmr: ${cubeCount} cube(s) 1080x${xmrWidth}x61 uint16 made in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  );
  if (scenarios.includes('xmr')) {
    for (const e of engines) {
      t = performance.now();
      const result = await runXmr(e, cubes, {
        params: model.params,
        seedThreshold: model.seedThreshold,
        ...ort,
      });
      results.push(result);
      log(`${formatResult(result)}\n      (${((performance.now() - t) / 1000).toFixed(1)} s)`);
    }
  }
  if (scenarios.includes('train')) {
    for (const e of engines) {
      const result = await runTrain(e, model.params, model.unitNormed, trainSeconds, ort);
      train.push(result);
      log(
        `train ${e.padEnd(5)} ${result.stepsPerSecond?.toFixed(2) ?? 'null'} steps/s (${result.steps} steps of 8192 px${e === 'onnx' ? `, ${threads} intra-op threads` : ''})${result.note ? ` — ${result.note}` : ''}`,
      );
    }
  }
}

if (scenarios.includes('fx10')) {
  const t = performance.now();
  const cube = syntheticCube({
    height: 4 * FX10.blockLines,
    width: FX10.width,
    bands: FX10.bands,
    minNm: FX10.minNm,
    maxNm: FX10.maxNm,
    seed: 42,
  });
  const fx10MaxNm =
    values['fx10-max-nm'] === undefined ? undefined : positive('fx10-max-nm', values['fx10-max-nm'], 1000);
  const model = syntheticModel(cube.data, cube.wavelengths, {
    minNm: 700,
    ...(fx10MaxNm === undefined ? {} : { maxNm: fx10MaxNm }),
  });
  log(
    `fx10: 4 distinct blocks 64x1024x224 made in ${((performance.now() - t) / 1000).toFixed(1)} s; model ${model.params.zscore.mean.length} -> ${model.params.project.hidden} -> ${model.params.project.rep}`,
  );
  for (const e of engines) {
    const result = await runFx10(e, cube, seconds, {
      params: model.params,
      seedThreshold: model.seedThreshold,
      ...ort,
      wholeBlocks: values['whole-blocks'],
    });
    results.push(result);
    log(formatResult(result));
  }
}

if (scenarios.includes('genicam')) {
  const loss = values['genicam-loss'];
  const lossPerThousand =
    loss === undefined || loss === '0' ? undefined : Math.round(positive('genicam-loss', loss, 0));
  const packetText = values['genicam-packet-size'];
  const packetSize =
    packetText === undefined
      ? undefined
      : packetText === '0'
        ? 0
        : Math.round(positive('genicam-packet-size', packetText, 0));
  // One run with the scorer the service would pick, unless --engine names one.
  const result = await runGenicam({
    seconds,
    ...(engines.length === 1 && engines[0] !== undefined ? { engine: engines[0] } : {}),
    ...(values.workers === undefined ? {} : { workers }),
    ...(lossPerThousand === undefined ? {} : { lossPerThousand }),
    ...(packetSize === undefined ? {} : { packetSize }),
    log,
  });
  results.push(result);
  log(formatResult(result));
}

let scaleout: ScaleoutResult | undefined;
if (scenarios.includes('scaleout')) {
  const blocks = values['scaleout-blocks'];
  scaleout = await runScaleout({
    ...(blocks === undefined
      ? {}
      : { blocksPerCamera: Math.round(positive('scaleout-blocks', blocks, 500)) }),
    log,
  });
}

let drift: DriftResult | undefined;
if (scenarios.includes('drift')) {
  const names = values['drift-scenarios']?.split(',').filter((s) => s !== '');
  for (const name of names ?? [])
    if (!isDriftScenario(name)) fail(`unknown drift scenario ${JSON.stringify(name)}`);
  const outDir = values.out ?? path.join('runs', `drift-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  drift = await runDrift({
    seconds: Math.round(positive('drift-seconds', values['drift-seconds'], 3600)),
    blockRows: Math.round(positive('drift-rows', values['drift-rows'], 32)),
    ...(names === undefined ? {} : { scenarios: names.filter(isDriftScenario) }),
    outDir,
    log,
  });
  log(`drift: plots in ${outDir}`);
}

log(
  `load average after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const trainFigures = train.map((t) => t.stepsPerSecond).filter((v): v is number => v !== null);
const bestTrain = trainFigures.length === 0 ? null : Math.max(...trainFigures);
const summary = {
  backend,
  scenarios: [
    ...results.map((r) => ({
      name: r.name,
      engine: r.engine,
      mpxPerSecond: r.mpxPerSecond,
      p50BlockMs: r.p50BlockMs,
      p99BlockMs: r.p99BlockMs,
      peakRssMb: r.peakRssMb,
      dropped: r.dropped,
      blocksPerSecond: r.blocksPerSecond,
      stageMs: r.stageMs,
      ...(r.earlyShare === undefined ? {} : { earlyShare: r.earlyShare }),
      ...r.camera,
    })),
    // The drift bench's figures: { name: 'drift', variants: [{ name, scenario, falseAlarmRate, recall, recoverySeconds, ... }] }.
    ...(drift === undefined ? [] : [drift]),
    // { name: 'scaleout', rounds: [{ workers, blocksPerSecond }], takeoverMs, ... }
    ...(scaleout === undefined ? [] : [scaleout]),
  ],

  // The best engine's figure (onnx, the default training engine on wasm, when both ran).
  trainStepsPerSecond: bestTrain === null ? null : round(bestTrain, 2),
  ...(train.length === 0
    ? {}
    : {
        trainStepsPerSecondByEngine: Object.fromEntries(
          train.map((t) => [t.engine, t.stepsPerSecond === null ? null : round(t.stepsPerSecond, 2)]),
        ),
      }),
  ...(train[0]?.note === undefined ? {} : { trainNote: train[0].note }),
  loadAverage: loadavg().map((l) => round(l, 2)),
};
console.log(JSON.stringify(summary));
