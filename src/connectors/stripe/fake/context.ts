import type { FakeKit } from '../../fake-kit/index.js';
import type { EventSender } from './event-sender.js';
import type { IdempotencyStore } from './idempotency.js';
import type { ResolvedStripeFakeOptions } from './options.js';
import type { SecondLimits } from './rate-limit.js';
import type { StripeFakeState } from './state.js';

/** What every route of the Stripe fake shares. */
export interface StripeFakeContext {
  readonly kit: FakeKit;
  readonly options: ResolvedStripeFakeOptions;
  readonly sender: EventSender;
  readonly idempotency: IdempotencyStore;
  readonly limits: SecondLimits;
  /** Replaced on reset. */
  state: StripeFakeState;
}
