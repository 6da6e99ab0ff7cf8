/**
 * Streams a >= 2 GB ENVI file through `enviReplay` and reports peak RSS and throughput.
 *
 * Run: `node --import tsx bench/envi-stream-rss.ts [--gb 2] [--dir DIR] [--dtype f32|u16]
 * [--interleave bip|bil|bsq]`. A child process (this script with `--write-to`) writes the file
 * with the streaming writer (deterministic content), so that the writer's heap does not count
 * against the replay. This process then replays it in blocks of 64 rows as fast as possible,
 * sums every value (checked against the sum written), samples `process.memoryUsage().rss` every
 * 50 ms and after each block, deletes the file, and prints a final JSON line. Target: peak RSS
 * under 300 MB. The file was just written, so reads mostly come from the page cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { lastValueFrom, tap } from 'rxjs';
import { enviReplay } from '../connectors/sources/envi-replay.js';
import type { EnviInterleave } from '../src/io/envi/header.js';
import { createEnviWriter } from '../src/io/envi/writer.js';

const BLOCK_ROWS = 64;
const SAMPLES = 512;
const BANDS = 256;
const MB = 1024 * 1024;

const { values } = parseArgs({
  options: {
    gb: { type: 'string', default: '2' },
    dir: { type: 'string', default: tmpdir() },
    dtype: { type: 'string', default: 'f32' },
    interleave: { type: 'string', default: 'bip' },
    'write-to': { type: 'string' },
  },
});
const gb = Number(values.gb);
if (!(gb > 0)) throw new Error(`--gb must be a positive number, got ${values.gb}`);
if (values.dtype !== 'f32' && values.dtype !== 'u16')
  throw new Error(`--dtype must be f32 or u16, got ${values.dtype}`);
if (!['bip', 'bil', 'bsq'].includes(values.interleave))
  throw new Error(`--interleave must be bip, bil or bsq`);
const dataType = values.dtype === 'f32' ? 4 : 12;
const interleave = values.interleave as EnviInterleave;
const bytesPerValue = dataType === 4 ? 4 : 2;
const rowBytes = SAMPLES * BANDS * bytesPerValue;
const lines = Math.ceil((gb * 1024 ** 3) / rowBytes);

/** Deterministic test pattern, exact in float32 and in uint16. */
function fillRows(block: Float32Array, firstLine: number, rows: number): number {
  let sum = 0;
  for (let r = 0; r < rows; r++) {
    const line = firstLine + r;
    for (let s = 0; s < SAMPLES; s++) {
      const base = (r * SAMPLES + s) * BANDS;
      const v0 = (line * 7 + s * 3) % 1000;
      for (let b = 0; b < BANDS; b++) {
        const v = v0 + b;
        block[base + b] = v;
        sum += v;
      }
    }
  }
  return sum;
}

function rssSampler() {
  let peak = process.memoryUsage().rss;
  const sample = () => {
    const rss = process.memoryUsage().rss;
    if (rss > peak) peak = rss;
  };
  const timer = setInterval(sample, 50);
  return {
    sample,
    stop: () => {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

interface WriteResult {
  fileBytes: number;
  writtenSum: number;
  seconds: number;
  peakRss: number;
}

/** Writes the test file; runs in the child process. */
async function writeFileAt(hdr: string): Promise<WriteResult> {
  const rss = rssSampler();
  const started = performance.now();
  const writer = await createEnviWriter(hdr, { samples: SAMPLES, lines, bands: BANDS, dataType, interleave });
  const block = new Float32Array(BLOCK_ROWS * SAMPLES * BANDS);
  let writtenSum = 0;
  for (let line = 0; line < lines; line += BLOCK_ROWS) {
    const rows = Math.min(BLOCK_ROWS, lines - line);
    writtenSum += fillRows(block, line, rows);
    await writer.writeRows(rows === BLOCK_ROWS ? block : block.subarray(0, rows * SAMPLES * BANDS));
    rss.sample();
  }
  await writer.close();
  const seconds = (performance.now() - started) / 1000;
  return { fileBytes: (await stat(writer.dataPath)).size, writtenSum, seconds, peakRss: rss.stop() };
}

const writeTo = values['write-to'];
if (writeTo !== undefined) {
  console.log(JSON.stringify(await writeFileAt(writeTo)));
  process.exit(0);
}

const dir = await mkdtemp(join(values.dir, 'cubestream-bench-'));
const hdr = join(dir, 'big.hdr');
try {
  const startRss = process.memoryUsage().rss;
  console.log(
    `writing ${lines} lines x ${SAMPLES} samples x ${BANDS} bands ${values.dtype} ${interleave} (${((lines * rowBytes) / 1e9).toFixed(2)} GB) to ${dir}`,
  );
  const child = execFileSync(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(import.meta.url),
      ...['--write-to', hdr, '--gb', String(gb), '--dtype', values.dtype, '--interleave', interleave],
    ],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const written = JSON.parse(child.trim().split('\n').at(-1) ?? '{}') as WriteResult;
  const { fileBytes, writtenSum, seconds: writeSeconds, peakRss: writePeak } = written;
  console.log(
    `wrote ${fileBytes} bytes in ${writeSeconds.toFixed(1)} s, peak RSS ${(writePeak / MB).toFixed(0)} MB`,
  );

  const readStartRss = process.memoryUsage().rss;
  const readRss = rssSampler();
  let blocks = 0;
  let readSum = 0;
  const readStart = performance.now();
  await lastValueFrom(
    enviReplay({ path: hdr, blockRows: BLOCK_ROWS, maxValues: BLOCK_ROWS * SAMPLES * BANDS }).frames.pipe(
      tap((frame) => {
        let s = 0;
        const data = frame.data;
        for (let i = 0; i < data.length; i++) s += data[i] as number;
        readSum += s;
        blocks++;
        readRss.sample();
      }),
    ),
  );
  const readSeconds = (performance.now() - readStart) / 1000;
  const peak = readRss.stop();
  const mbPerSecond = fileBytes / MB / readSeconds;
  console.log(
    `streamed ${blocks} blocks in ${readSeconds.toFixed(1)} s: ${mbPerSecond.toFixed(0)} MB/s, peak RSS ${(peak / MB).toFixed(0)} MB (before: ${(readStartRss / MB).toFixed(0)} MB), sum ${readSum === writtenSum ? 'matches' : `MISMATCH ${readSum} vs ${writtenSum}`}`,
  );
  console.log(
    JSON.stringify({
      bench: 'envi-stream-rss',
      fileBytes,
      dtype: values.dtype,
      interleave,
      lines,
      samples: SAMPLES,
      bands: BANDS,
      blockRows: BLOCK_ROWS,
      blocks,
      seconds: Number(readSeconds.toFixed(2)),
      mbPerSecond: Number(mbPerSecond.toFixed(1)),
      peakRssMb: Number((peak / MB).toFixed(1)),
      baselineRssMb: Number((startRss / MB).toFixed(1)),
      readStartRssMb: Number((readStartRss / MB).toFixed(1)),
      writePeakRssMb: Number((writePeak / MB).toFixed(1)),
      writeMbPerSecond: Number((fileBytes / MB / writeSeconds).toFixed(1)),
      sumMatches: readSum === writtenSum,
      underTarget: peak < 300 * MB,
    }),
  );
  if (readSum !== writtenSum) process.exitCode = 1;
} finally {
  await rm(dir, { recursive: true, force: true });
}
