/**
 * Child process of line-stream.test.ts: opens a line stream on the fake camera, takes a few
 * lines, closes it, and must then exit by itself (no dangling worker or handle keeps it alive).
 */
import { openLineStream } from '../../../../connectors/sources/genicam/line-stream.js';

let lines = 0;
const stream = openLineStream(
  { camera: '127.0.0.1', features: { width: 64, height: 4, pixelFormat: 'Mono8', frameRate: 200 } },
  {
    onOpened: () => {},
    onLine: () => {
      lines++;
      if (lines === 5)
        void stream.close().then(() => {
          process.stdout.write(`closed after ${lines} lines\n`);
        });
    },
    onIncomplete: () => {},
    onGap: () => {},
    onLost: ({ error }) => process.stderr.write(`lost: ${error.message}\n`),
    onFatal: (error) => {
      process.stderr.write(`fatal: ${error.message}\n`);
      process.exitCode = 1;
    },
  },
);
