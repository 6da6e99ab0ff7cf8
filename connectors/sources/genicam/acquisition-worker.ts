/**
 * Worker thread of a line stream ({@link openLineStream}): it owns the camera and its Aravis
 * stream, so that no Aravis call, and no wait for a buffer, ever blocks the main event loop, and
 * no JavaScript callback is ever registered into an Aravis thread (CAMERAS.md §3). It takes one
 * init message, then runs the acquisition loop synchronously until the stop flag is set, and
 * posts `closed` last.
 */
import { parentPort } from 'node:worker_threads';
import { AcquisitionLoop } from './acquisition-loop.js';
import type { AcquisitionInit, AcquisitionMessage } from './acquisition-protocol.js';
import { loadAravis } from './aravis-library.js';
import { adoptDiscoveryLock } from './discovery-lock.js';
import { genicamErrorToWire } from './genicam-errors.js';

const port = parentPort;
if (port === null) throw new Error('acquisition-worker must run in a worker thread');

const post = (message: AcquisitionMessage): void => port.postMessage(message);

port.once('message', (init: AcquisitionInit) => {
  adoptDiscoveryLock(init.discoveryLock);
  loadAravis()
    .then((aravis) => new AcquisitionLoop(aravis, init, post).run())
    .catch((error: unknown) => post({ t: 'fatal', error: genicamErrorToWire(error) }))
    .finally(() => post({ t: 'closed' }));
});
