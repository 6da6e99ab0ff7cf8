/**
 * The drift bench (`npm run bench -- --scenario drift`): an hour of simulated belt per drift
 * scenario, one block per simulated second, unpaced, scored by four pipeline variants side by
 * side (each block is simulated once and fed to all four), every decision matched to the
 * simulator's truth. Prints the table, returns the figures, and draws τ, the centre's drift and
 * the windowed rates per scenario into the run folder.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  BURST_SECONDS,
  DRIFT_ONSET_SECONDS,
  DRIFT_SCENARIOS,
  type DriftScenario,
} from '../connectors/sources/simulator/drift.js';
import { createLineScanSimulator } from '../connectors/sources/simulator/line-scan-simulator.js';
import { deepSvddPipeline } from '../operators/deep-svdd-pipeline.js';
import { PIPELINE_DEFAULTS, type PipelineSettings } from '../operators/pipeline-options.js';
import { DEMO_CAMERA, resolveDemoModelDir } from '../src/app/service/demo-settings.js';
import type { DecidedFrame } from '../src/core/decision.js';
import type { CubeFrame } from '../src/core/frame.js';
import { TruthTally } from '../src/core/truth-tally.js';
import { loadBundle } from '../src/model/bundle.js';
import { lineChart } from '../src/report/line-chart.js';
import { writePng } from '../src/report/png.js';
import { BlockRunner } from './block-runner.js';
import {
  type DriftBlockRecord,
  type DriftFigures,
  driftFigures,
  windowedFalseAlarmRate,
  windowedRecall,
} from './drift-metrics.js';

/** The pipeline variants compared, by name: the cuvis behaviour, then each adaptive piece added. */
export const DRIFT_VARIANTS: Readonly<Record<string, PipelineSettings>> = {
  'frozen+per-frame': { center: { mode: 'frozen' }, threshold: { mode: 'per-frame' } },
  'frozen+rolling': { center: { mode: 'frozen' }, threshold: { mode: 'rolling' } },
  'ema+rolling': { center: { mode: 'ema' }, threshold: { mode: 'rolling' } },
  'gated-ema+rolling': {},
};

/** The variant that is the pipeline's default (its settings are `{}`). */
export const DEFAULT_DRIFT_VARIANT = 'gated-ema+rolling';

/** What {@link runDrift} runs. */
export interface DriftBenchOptions {
  /** Simulated seconds (= blocks) per scenario. Default 3600. */
  readonly seconds?: number;
  /** Lines per block. Default 32. */
  readonly blockRows?: number;
  /** Scenarios to run. Default: all of `DRIFT_SCENARIOS`. */
  readonly scenarios?: readonly DriftScenario[];
  /** Folder for the PNG plots (created). Absent: no plots. */
  readonly outDir?: string;
  /** Seed of the simulator. Default 1. */
  readonly seed?: number;
  /** Where progress lines go. */
  readonly log?: (line: string) => void;
}

/** One row of the drift table. */
export interface DriftVariantResult extends DriftFigures {
  /** The variant (a key of {@link DRIFT_VARIANTS}). */
  readonly name: string;
  readonly scenario: DriftScenario;
}

/** The drift bench's entry in the bench's JSON line. */
export interface DriftResult {
  readonly name: 'drift';
  readonly seconds: number;
  readonly blockRows: number;
  readonly width: number;
  readonly variants: readonly DriftVariantResult[];
}

/** Belt time zero of the simulated hour (epoch ms): blocks are stamped one simulated second apart. */
const T0 = Date.UTC(2026, 0, 1);

/**
 * Runs the drift bench.
 *
 * @example
 * ```ts
 * const result = await runDrift({ seconds: 600, scenarios: ['lamp-step'] });
 * ```
 */
export async function runDrift(options: DriftBenchOptions = {}): Promise<DriftResult> {
  const seconds = options.seconds ?? 3600;
  const blockRows = options.blockRows ?? 32;
  const scenarios = options.scenarios ?? DRIFT_SCENARIOS;
  const log = options.log ?? (() => {});
  const bundle = await loadBundle(resolveDemoModelDir());
  const minArea = PIPELINE_DEFAULTS.decide.minArea ?? 1;
  const variants: DriftVariantResult[] = [];
  if (options.outDir !== undefined) await mkdir(options.outDir, { recursive: true });
  for (const scenario of scenarios) {
    const started = performance.now();
    const records = await runScenario(scenario, seconds, blockRows, minArea, options.seed ?? 1, bundle);
    const onset = scenario === 'lamp-step' ? DRIFT_ONSET_SECONDS : undefined;
    const burst: [number, number] | undefined =
      scenario === 'burst' ? [DRIFT_ONSET_SECONDS, DRIFT_ONSET_SECONDS + BURST_SECONDS] : undefined;
    for (const [name, blocks] of records) {
      const row: DriftVariantResult = { name, scenario, ...driftFigures(blocks, onset, burst) };
      variants.push(row);
      log(formatDriftRow(row));
    }
    if (options.outDir !== undefined) await plotScenario(options.outDir, scenario, records);
    log(`drift ${scenario}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  return { name: 'drift', seconds, blockRows, width: DEMO_CAMERA.width, variants };
}

async function runScenario(
  scenario: DriftScenario,
  seconds: number,
  blockRows: number,
  minArea: number,
  seed: number,
  bundle: Awaited<ReturnType<typeof loadBundle>>,
): Promise<Map<string, DriftBlockRecord[]>> {
  const sim = createLineScanSimulator({
    width: DEMO_CAMERA.width,
    blockRows,
    anomalyRate: DEMO_CAMERA.anomalyRate,
    seed,
    maxBlocks: seconds,
    cameraId: DEMO_CAMERA.cameraId,
    drift: { scenario, linesPerSecond: blockRows },
  });
  const lanes = Object.entries(DRIFT_VARIANTS).map(([name, settings]) => {
    const lane = { name, drift: 0, records: [] as DriftBlockRecord[], tally: new TruthTally({ minArea }) };
    const runner = new BlockRunner<CubeFrame, DecidedFrame>(
      deepSvddPipeline(bundle, {
        ...settings,
        // In-thread sessions: four pipelines in lock-step already keep both cores busy.
        scorerWorkers: 0,
        hooks: {
          onCenterUpdate: (_c, drift) => {
            lane.drift = drift;
          },
        },
      }),
    );
    return { ...lane, lane, runner };
  });
  for (let second = 0; second < seconds; second++) {
    const frame = sim.nextFrame(T0 + second * 1000);
    if (frame === undefined) break;
    const decided = await Promise.all(lanes.map((l) => l.runner.run(frame)));
    decided.forEach((block, i) => {
      const { lane } = lanes[i]!;
      const outcome = lane.tally.observe(block);
      lane.records.push({
        second,
        tau: block.threshold,
        centerDrift: lane.drift,
        clean: outcome?.clean ?? true,
        flagged: block.decision.anomalous,
        found: outcome?.found ?? 0,
        missed: outcome?.missed ?? 0,
      });
    });
  }
  const out = new Map<string, DriftBlockRecord[]>();
  for (const { lane, runner } of lanes) {
    await runner.close();
    out.set(lane.name, lane.records);
  }
  return out;
}

/** One line of the human-readable table. */
export function formatDriftRow(row: DriftVariantResult): string {
  const pct = (v: number | null, digits = 2): string => (v === null ? '-' : `${(100 * v).toFixed(digits)} %`);
  return [
    `drift ${row.scenario.padEnd(16)} ${row.name.padEnd(17)}`,
    `FA ${pct(row.falseAlarmRate)} (${row.falseAlarms}/${row.cleanBlocks})`,
    `recall ${pct(row.recall, 1)} (${row.found}/${row.foreignBodies})`,
    row.recoverySeconds === null ? '' : `recovery ${row.recoverySeconds} s`,
    row.recallAfterBurst === null ? '' : `recall after burst ${pct(row.recallAfterBurst, 1)}`,
    `τ ${row.tauStart?.toPrecision(3) ?? '-'} -> ${row.tauEnd?.toPrecision(3) ?? '-'} (max ${row.tauMax?.toPrecision(3) ?? '-'})`,
  ]
    .filter((s) => s !== '')
    .join('  ');
}

/** Draws τ, the centre's drift and the per-minute rates of every variant over the scenario. */
async function plotScenario(
  outDir: string,
  scenario: DriftScenario,
  records: ReadonlyMap<string, readonly DriftBlockRecord[]>,
): Promise<void> {
  const lanes = [...records];
  const minutes = (values: readonly number[]) => values.map((_, i) => i);
  const charts: [string, { name: string; values: number[]; x?: number[] }[]][] = [
    [
      'tau',
      lanes.map(([name, b]) => ({ name, values: b.map((r) => r.tau), x: b.map((r) => r.second / 60) })),
    ],
    [
      'center-drift',
      lanes.map(([name, b]) => ({
        name,
        values: b.map((r) => r.centerDrift),
        x: b.map((r) => r.second / 60),
      })),
    ],
    [
      'false-alarm-rate',
      lanes.map(([name, b]) => {
        const values = windowedFalseAlarmRate(b, 60);
        return { name, values, x: minutes(values) };
      }),
    ],
    [
      'recall',
      lanes.map(([name, b]) => {
        const values = windowedRecall(b, 60);
        return { name, values, x: minutes(values) };
      }),
    ],
  ];
  for (const [what, series] of charts) {
    // τ on a log axis: the per-frame variant's τ spans three decades, the rolling ones sit near τ₀.
    const chart = lineChart(series, { width: 720, height: 360, logY: what === 'tau' });
    await writePng(path.join(outDir, `${scenario}-${what}.png`), chart.data, chart.width, chart.height);
  }
}
