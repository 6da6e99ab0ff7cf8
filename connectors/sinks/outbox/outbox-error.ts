/** The error of an outbox journal that cannot be opened or written. */
import { CubestreamError } from '../../../src/core/errors.js';

/** The outbox directory of a sink cannot be created, read or written (permissions, disk full). */
export class OutboxError extends CubestreamError {
  /**
   * @param sink - sink name
   * @param dir - the sink's journal directory
   * @param detail - what failed
   */
  constructor(sink: string, dir: string, detail: string, options?: { cause?: unknown }) {
    super('outbox', `${sink} sink: outbox ${dir}: ${detail}`, options);
  }
}
