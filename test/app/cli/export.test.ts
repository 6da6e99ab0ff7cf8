import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import onnxProto from 'onnx-proto';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { from, lastValueFrom, type OperatorFunction, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLineScanSimulator } from '../../../connectors/sources/simulated-line-scan.js';
import { deepSvddScorer } from '../../../operators/bundle-scorer.js';
import { fusedScorerFromBundle } from '../../../operators/fused-scorer-from-bundle.js';
import { runCli } from '../../../src/app/cli/main.js';
import type { CubeFrame } from '../../../src/core/frame.js';
import type { ScoredFrame } from '../../../src/core/scored-frame.js';
import { type LoadedBundle, loadBundle, type ModelBundle, saveBundle } from '../../../src/model/bundle.js';
import { type DeepSvddParams, initProjection } from '../../../src/model/deep-svdd-params.js';
import { deepSvddFromBundle, deepSvddToBundle, rxToBundle } from '../../../src/model/detector-bundle.js';
import { fitRx, RxStats } from '../../../src/model/rx-stats.js';
import { seededRandom } from '../../../src/model/seeded-random.js';
import { initEngine } from '../../../src/scoring/engine.js';
import { onnxMetadata } from '../../../src/scoring/onnx/standalone-model.js';
import { captureIO } from '../../helpers/capture-io.js';
import { TINY_WAVELENGTHS, tinyFrame } from '../../helpers/tiny-model.js';

const DEMO = resolve(dirname(fileURLToPath(import.meta.url)), '../../../models/demo');
const CALIBRATION = {
  threshold: 2.5,
  quantile: 0.99,
  margin: 2,
  scoreQuantiles: { '0.99': 1.25 },
  pixels: 512,
};

let dir = '';
let demo: LoadedBundle;
/** A simulated lentil-belt block with foreign bodies, 64 rows x 64 columns x 61 bands of integer counts. */
let block: CubeFrame;

beforeAll(async () => {
  await initEngine();
  dir = await mkdtemp(join(tmpdir(), 'cubestream-export-'));
  demo = await loadBundle(DEMO);
  block = createLineScanSimulator({
    width: 64,
    blockRows: 64,
    seed: 5,
    anomalyRate: 0.05,
  }).nextFrame() as CubeFrame;
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function exportCli(...args: string[]) {
  const io = captureIO();
  const code = await runCli(['export', ...args], io);
  return { code, out: io.stdout(), err: io.stderr() };
}

async function scoreWith(
  op: OperatorFunction<CubeFrame, ScoredFrame>,
  frame: CubeFrame,
): Promise<Float32Array> {
  const [scored] = await lastValueFrom(from([frame]).pipe(op, toArray()));
  return (scored as ScoredFrame).scores;
}

/** The project's onnx scorer (what the service runs for a bundle the fused graph covers), in this thread. */
function serviceScores(bundle: ModelBundle, frame: CubeFrame): Promise<Float32Array> {
  const op = fusedScorerFromBundle(bundle, { workers: 0, threads: 1 });
  if (op === undefined) throw new Error('the fused scorer does not cover the bundle');
  return scoreWith(op, frame);
}

/** Runs the exported file in a fresh session, fed only `x` (pixels x bands). */
async function runFile(
  file: string,
  x: Float32Array | Uint16Array,
  bands: number,
): Promise<InferenceSession.OnnxValueMapType> {
  const session = await InferenceSession.create(file);
  try {
    expect(session.inputNames).toEqual(['x']);
    const type = x instanceof Float32Array ? 'float32' : 'uint16';
    return await session.run({ x: new Tensor(type, x, [x.length / bands, bands]) });
  } finally {
    await session.release();
  }
}

function maxRelative(got: ArrayLike<number>, ref: ArrayLike<number>): number {
  expect(got.length).toBe(ref.length);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const r = ref[i] as number;
    worst = Math.max(worst, Math.abs((got[i] as number) - r) / Math.abs(r));
  }
  return worst;
}

function decodeModel(bytes: Uint8Array) {
  return onnxProto.onnx.ModelProto.decode(bytes);
}

describe('cubestream export', () => {
  it('writes the demo bundle as one ONNX file that a fresh session scores like the bundle', async () => {
    const file = join(dir, 'out', 'demo.onnx');
    const { code, out, err } = await exportCli('--model', DEMO, '--out', file, '--json');
    expect(err).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report).toMatchObject({
      file,
      model: 'demo-lentils-2',
      detector: 'deep-svdd',
      graph: 'deep-svdd 61->61->128->32 float32',
      opset: 17,
      input: { name: 'x', dtype: 'float32', shape: ['N', 61], keptBands: 61 },
      outputs: ['scores', 'zsum_normal', 'n_normal'],
      threshold: demo.calibration.threshold,
    });
    expect(report.bytes).toBe((await readFile(file)).byteLength);

    const outputs = await runFile(file, block.data, block.bands);
    const scores = outputs.scores?.data as Float32Array;
    const service = await serviceScores(demo, block);
    expect(maxRelative(scores, service)).toBeLessThanOrEqual(1e-5);
    // The tfjs chain computes the stages unfolded in float32: both stay within 2e-5 of a float64 reference.
    const tfjs = await scoreWith(deepSvddScorer(deepSvddFromBundle(demo)), block);
    expect(maxRelative(scores, tfjs)).toBeLessThanOrEqual(1e-4);
    // τ is frozen in: n_normal counts the pixels below it.
    const tau = Math.fround(demo.calibration.threshold);
    const normal = service.filter((s) => s < tau).length;
    expect(normal).toBeGreaterThan(0);
    expect(normal).toBeLessThan(service.length); // the block has pixels at or above τ
    expect(outputs.n_normal?.data[0]).toBe(normal);
  });

  it('writes the calibration, wavelengths, version and input layout into metadata_props (opset 17)', async () => {
    const file = join(dir, 'meta.onnx');
    expect((await exportCli('--model', DEMO, '--out', file)).code).toBe(0);
    const bytes = await readFile(file);
    const model = decodeModel(bytes);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect(model.producerName).toBe('cubestream');
    expect(model.producerVersion).toMatch(/^\d+\.\d+\.\d+/);
    const meta = onnxMetadata(bytes);
    const { manifest, calibration } = demo;
    expect(meta).toMatchObject({
      'cubestream.format': 'cubestream.onnx-export/1',
      'cubestream.model_version': 'demo-lentils-2',
      'cubestream.detector': 'deep-svdd',
      'cubestream.weights_sha256': demo.weightsSha256,
      'cubestream.opset': '17',
      'cubestream.threshold': String(calibration.threshold),
      'cubestream.quantile': '0.99',
      'cubestream.margin': '3',
      'cubestream.input.name': 'x',
      'cubestream.input.dtype': 'float32',
      'cubestream.input.shape': '["N",61]',
      'cubestream.input.wavelength_units': 'nm',
      'cubestream.input.bandpass': '"all"',
    });
    expect(JSON.parse(meta['cubestream.calibration'] as string)).toEqual(calibration);
    expect(JSON.parse(meta['cubestream.input.wavelengths'] as string)).toEqual(manifest.input.wavelengths);
    expect(JSON.parse(meta['cubestream.input.kept_bands'] as string)).toHaveLength(61);
    expect(meta['cubestream.input.layout']).toContain('[rows * columns, bands]');
    expect(Object.keys(JSON.parse(meta['cubestream.outputs'] as string))).toEqual([
      'scores',
      'zsum_normal',
      'n_normal',
    ]);
  });

  it('takes raw uint16 counts with --input-type uint16 and scores them as the float32 file does', async () => {
    const file = join(dir, 'demo-u16.onnx');
    const { code, out } = await exportCli('--model', DEMO, '--out', file, '--input-type', 'uint16');
    expect(code).toBe(0);
    expect(out).toMatch(/input +x uint16 \[N, 61\]/);
    expect(onnxMetadata(await readFile(file))['cubestream.input.dtype']).toBe('uint16');
    const counts = Uint16Array.from(block.data); // the simulator's counts are whole numbers
    const scores = (await runFile(file, counts, block.bands)).scores?.data as Float32Array;
    expect(maxRelative(scores, await serviceScores(demo, block))).toBeLessThanOrEqual(1e-5);
  });

  it('selects the band-passed bands from the full input, with unit norm and whitening', async () => {
    const random = seededRandom(11);
    const bundleDir = join(dir, 'bandpass-model');
    const c = 5; // 720..800 nm of the tiny sensor's 700..840
    const params: DeepSvddParams = {
      wavelengthsNm: TINY_WAVELENGTHS,
      bandpass: { minNm: 720, maxNm: 800 },
      unitNorm: true,
      zscore: {
        mean: Float32Array.from({ length: c }, () => 0.2 * (random() - 0.5)),
        std: Float32Array.from({ length: c }, () => 0.1 + 0.3 * random()),
      },
      whiten: {
        mean: Float32Array.from({ length: c }, () => random() - 0.5),
        matrix: Float32Array.from({ length: 4 * c }, () => random() - 0.5),
        components: 4,
      },
      project: initProjection(4, { seed: 3, hidden: 16, rep: 6 }),
      center: Float32Array.from({ length: 6 }, () => random() - 0.5),
    };
    await saveBundle(
      bundleDir,
      deepSvddToBundle(params, { version: 'bandpass-1', calibration: CALIBRATION }),
    );
    const file = join(dir, 'bandpass.onnx');
    expect((await exportCli('--model', bundleDir, '--out', file)).code).toBe(0);
    const meta = onnxMetadata(await readFile(file));
    expect(meta['cubestream.input.shape']).toBe('["N",8]');
    expect(meta['cubestream.input.bandpass']).toBe('{"minNm":720,"maxNm":800}');
    expect(meta['cubestream.input.kept_bands']).toBe('[1,2,3,4,5]');
    expect(meta['cubestream.input.kept_wavelengths']).toBe('[720,740,760,780,800]');

    const frame = tinyFrame({ anomaly: { row: 4, col: 4, size: 3 } });
    const scores = (await runFile(file, frame.data, frame.bands)).scores?.data as Float32Array;
    const bundle = await loadBundle(bundleDir);
    expect(maxRelative(scores, await serviceScores(bundle, frame))).toBeLessThanOrEqual(1e-5);
    const tfjs = await scoreWith(deepSvddScorer(deepSvddFromBundle(bundle)), frame);
    expect(maxRelative(scores, tfjs)).toBeLessThanOrEqual(1e-4);
  });

  it('exports an RX bundle: x in, RX scores out', async () => {
    const frame = tinyFrame({ frameId: 3 });
    const stats = new RxStats(frame.bands);
    stats.add(frame.data);
    const bundleDir = join(dir, 'rx-model');
    await saveBundle(
      bundleDir,
      rxToBundle(
        { rx: fitRx(stats), wavelengths: TINY_WAVELENGTHS, wavelengthUnits: 'nm' },
        { version: 'rx-1', calibration: CALIBRATION },
      ),
    );
    const file = join(dir, 'rx.onnx');
    const { code, out } = await exportCli('--model', bundleDir, '--out', file, '--json');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toMatchObject({ detector: 'rx', outputs: ['scores'], opset: 17 });
    const scores = (await runFile(file, frame.data, frame.bands)).scores?.data as Float32Array;
    const bundle = await loadBundle(bundleDir);
    expect(maxRelative(scores, await serviceScores(bundle, frame))).toBeLessThanOrEqual(1e-5);
  });

  it('refuses a bundle the fused graph does not cover, naming why, and writes nothing', async () => {
    const cases: [string, ModelBundle, string[], RegExp][] = [
      [
        'extra-stage',
        {
          ...demo,
          manifest: { ...demo.manifest, stages: [...demo.manifest.stages, { kind: 'repairStuck' }] },
        },
        [],
        /cannot export model demo-lentils-2 to ONNX: pipeline\.yaml stages repairStuck are not in the fused graph/,
      ],
      [
        'other-detector',
        { ...demo, manifest: { ...demo.manifest, detector: 'autoencoder' } },
        [],
        /detector "autoencoder" has no fused graph/,
      ],
      [
        'reflectance',
        {
          ...demo,
          manifest: { ...demo.manifest, input: { ...demo.manifest.input, radiometry: 'reflectance' } },
        },
        ['--input-type', 'uint16'],
        /uint16 input is for raw counts, but the model was trained on reflectance/,
      ],
    ];
    for (const [name, bundle, extra, message] of cases) {
      const bundleDir = join(dir, name);
      await saveBundle(bundleDir, bundle);
      const file = join(dir, `${name}.onnx`);
      const { code, err } = await exportCli('--model', bundleDir, '--out', file, ...extra);
      expect(code, name).toBe(1);
      expect(err, name).toMatch(message);
      expect(err.trim().split('\n'), name).toHaveLength(1);
      expect(existsSync(file), name).toBe(false);
    }
  });

  it('rejects a bad command line with exit 2', async () => {
    expect((await exportCli('--model', DEMO)).err).toBe('cubestream export: missing required option --out\n');
    const bad = await exportCli('--model', DEMO, '--out', join(dir, 'x.onnx'), '--input-type', 'int8');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('--input-type must be float32 or uint16, got "int8"');
  });
});
