/**
 * The way a lower layer (vault, delivery worker, sync runner) publishes an operational event such as
 * `connection.needs_reauth` into the event pipeline, without depending on it. The engine wires the
 * real pipeline in; the default drops events.
 */
export interface PublishInput {
  /** Event type, e.g. `connection.needs_reauth`. */
  type: string;
  payload: unknown;
  /** Repeated publishes with the same key return the original event. */
  idempotencyKey?: string;
}

export interface EventPublisher {
  publish(input: PublishInput): Promise<void>;
}

export const nullPublisher: EventPublisher = {
  async publish() {},
};
