/**
 * One message on its way to a broker, with the promise handed back to the publisher. It is
 * settled once, at the first of: acknowledged, queued offline, dropped, rejected.
 */
import type { Decision } from '../../src/core/decision.js';
import type { PublishOutcome } from './sink.js';

/** A message between `publish()` and its acknowledgement. */
export class OutgoingMessage {
  /** Settles with the first outcome (see {@link PublishOutcome}) or the rejection error. */
  readonly promise: Promise<PublishOutcome>;
  private settled = false;
  private resolvePromise: (outcome: PublishOutcome) => void = () => {};
  private rejectPromise: (error: Error) => void = () => {};

  /**
   * @param destination - topic or subject
   * @param payload - the encoded JSON
   * @param decision - the decision, for drop reports (absent for dead letters)
   * @param msgId - JetStream de-duplication id
   */
  constructor(
    readonly destination: string,
    readonly payload: string,
    readonly decision?: Decision,
    readonly msgId?: string,
  ) {
    this.promise = new Promise<PublishOutcome>((resolve, reject) => {
      this.resolvePromise = resolve;
      this.rejectPromise = reject;
    });
  }

  /** Resolves the publisher's promise unless already settled. */
  settle(outcome: PublishOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.resolvePromise(outcome);
  }

  /** Rejects the publisher's promise unless already settled. */
  fail(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectPromise(error);
  }
}
