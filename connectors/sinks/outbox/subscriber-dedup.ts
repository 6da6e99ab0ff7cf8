/**
 * The subscriber's half of at-least-once delivery: decisions may arrive twice (an MQTT re-send
 * after a reconnect, the durable outbox replaying what the broker had already taken before a
 * crash). A consumer drops the repeats by the decision's identity, {@link decisionMsgId}
 * (`<cameraId>:<capturedAt>:<frameId>:<rowOffset>`), the same key JetStream de-duplicates on.
 */
import type { Decision } from '../../../src/core/decision.js';
import { decisionMsgId } from '../topics.js';

/**
 * Remembers the identities of the last `capacity` decisions seen.
 *
 * @example
 * ```ts
 * import mqtt from 'mqtt';
 * import { parseDecision } from 'cubestream';
 * const client = mqtt.connect('mqtt://127.0.0.1:1883').subscribe('cubestream/+/decisions', { qos: 1 });
 * const seen = new DecisionDeduper();
 * client.on('message', (_topic, payload) => {
 *   const decision = parseDecision(payload);
 *   if (seen.firstTime(decision)) console.log(decision.anomalous);
 * });
 * ```
 */
export class DecisionDeduper {
  private readonly seen = new Set<string>();

  /** @param capacity - identities remembered (oldest forgotten first); default 100 000 */
  constructor(readonly capacity = 100_000) {}

  /** Identities remembered. */
  get size(): number {
    return this.seen.size;
  }

  /** True the first time a decision is seen; false for a repeat among the last `capacity`. */
  firstTime(decision: Pick<Decision, 'cameraId' | 'capturedAt' | 'frameId' | 'rowOffset'>): boolean {
    const id = decisionMsgId(decision);
    if (this.seen.has(id)) return false;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next();
      if (oldest.done !== true) this.seen.delete(oldest.value);
    }
    return true;
  }
}
