import type { ClaimOutcome, LedgerEntry } from '../store/send-ledger-store.js';

/**
 * Where a connector claims a send it makes idempotent from Patchbay's side (SendGrid mail, Graph
 * `sendMail`: neither provider takes an idempotency key): the store's `SendLedgerStore`, or any store
 * with its semantics. A claim is durable before the send leaves, so after a crash the next attempt
 * knows one may have reached the provider and looks before sending again.
 */
export interface SendLedger {
  claim(scope: string, key: string, now: number): Promise<ClaimOutcome>;
  retake(scope: string, key: string, attemptAt: number, now: number): Promise<boolean>;
  complete(scope: string, key: string, result: unknown, now: number): Promise<void>;
  release(scope: string, key: string, attemptAt: number): Promise<void>;
  get(scope: string, key: string): Promise<LedgerEntry | undefined>;
}
