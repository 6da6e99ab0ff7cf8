/**
 * The service's eject path: each decided block is planned into eject commands (`planEjects`, the
 * `ejector` section) and every command still on time goes to each sink that carries ejects:
 * MQTT `<prefix>/<camera>/eject`, NATS `<prefix>.eject.<camera>`, an OPC UA `EjectEventType`
 * event, the Sparkplug `Eject/*` metrics. Late ones are counted, never sent.
 */

import type { EjectorOptions } from '../../../operators/eject-options.js';
import { createEjectPlanner, type EjectPlanInput } from '../../../operators/plan-ejects.js';
import type { EjectCommand } from '../../core/eject.js';
import { OptionError } from '../../core/options.js';
import type { Logger } from '../../telemetry/logger.js';
import type { CubestreamMetrics } from '../../telemetry/metrics.js';
import type { ServiceSinks } from './sinks.js';

/** Sends one planned block's ejects; never throws (a failed send is logged and counted by its sink). */
export type EjectDispatcher = (decided: EjectPlanInput) => void;

/**
 * Builds the dispatcher of an `ejector` section.
 *
 * @throws `OptionError` for an impossible ejector geometry, or with `assemble: frame`
 * @example
 * ```ts
 * declare const sinks: import('./sinks.js').ServiceSinks;
 * declare const metrics: import('../../telemetry/metrics.js').CubestreamMetrics;
 * declare const logger: import('../../telemetry/logger.js').Logger;
 * const dispatch = createEjectDispatcher(
 *   { lineRateHz: 640, beltSpeedMetresPerSecond: 1, distanceToValvesMetres: 0.3, valveCount: 32, valvePitchMetres: 0.01, pixelPitchMetres: 0.00125 },
 *   sinks, metrics, logger,
 * );
 * dispatch(decided);
 * ```
 */
export function createEjectDispatcher(
  options: EjectorOptions,
  sinks: Pick<ServiceSinks, 'mqtt' | 'nats' | 'opcua' | 'sparkplug'>,
  metrics: Pick<CubestreamMetrics, 'ejects' | 'ejectsLate' | 'ejectBudget'>,
  logger: Logger,
  assemble: 'block' | 'frame' = 'block',
): EjectDispatcher {
  // An assembled frame's capturedAt is its first block's, whose height the service does not know
  // for every source: fire times would come out early. Refuse rather than fire at the wrong time.
  if (assemble !== 'block') {
    throw new OptionError(
      'service',
      'ejector',
      'set',
      'needs pipeline.decide.assemble: block (an assembled frame does not say when its blob rows were captured)',
    );
  }
  const plan = createEjectPlanner(options);
  const failed = (eject: EjectCommand, via: string) => (error: unknown) =>
    logger.warn({ err: error, camera: eject.cameraId, blobId: eject.blobId, via }, 'eject not sent');
  const seen = new Set<string>();
  return (decided) => {
    const camera = decided.decision.cameraId;
    if (!seen.has(camera)) {
      // Both counters exist from the camera's first decision, so that rates read 0, not nothing.
      seen.add(camera);
      metrics.ejects.inc({ camera }, 0);
      metrics.ejectsLate.inc({ camera }, 0);
    }
    const { ejects, late } = plan(decided);
    for (const eject of late) {
      metrics.ejectsLate.inc({ camera: eject.cameraId });
      metrics.ejectBudget.observe({ camera: eject.cameraId }, eject.budgetMs / 1000);
      logger.warn(
        { camera: eject.cameraId, blobId: eject.blobId, budgetMs: eject.budgetMs },
        'eject too late: the blob passed the valves before its decision (cubestream_ejects_late_total)',
      );
    }
    for (const eject of ejects) {
      metrics.ejects.inc({ camera: eject.cameraId });
      metrics.ejectBudget.observe({ camera: eject.cameraId }, eject.budgetMs / 1000);
      sinks.mqtt?.publishEject(eject).catch(failed(eject, 'mqtt'));
      sinks.nats?.publishEject(eject).catch(failed(eject, 'nats'));
      sinks.sparkplug?.publishEject(eject.cameraId, eject).catch(failed(eject, 'sparkplug'));
      try {
        sinks.opcua?.raiseEject(eject.cameraId, eject);
      } catch (error) {
        failed(eject, 'opcua')(error);
      }
    }
  };
}
