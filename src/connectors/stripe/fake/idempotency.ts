/**
 * Stripe's idempotency layer: the first answer for a key (status and body, errors included) is saved
 * and replayed to any retry with the same key; the same key with other parameters, or on another
 * endpoint, is refused with `idempotency_error`; a key whose first request is still running answers 409
 * `idempotency_key_in_use`. Keys are scoped to the account, at most 255 characters, kept at least 24 h.
 * Only POSTs take part (GET and DELETE are idempotent by definition).
 * https://docs.stripe.com/api/idempotent_requests
 */
export interface SavedAnswer {
  status: number;
  body: string;
  requestId: string;
}

interface Entry {
  method: string;
  path: string;
  fingerprint: string;
  createdAt: number;
  answer: SavedAnswer | undefined;
}

export type Admission =
  | { kind: 'new' }
  | { kind: 'replay'; answer: SavedAnswer }
  | { kind: 'in-use' }
  | { kind: 'other-params' }
  | { kind: 'other-endpoint'; path: string };

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;

export class IdempotencyStore {
  private readonly entries = new Map<string, Entry>();

  admit(key: string, method: string, path: string, fingerprint: string, now: number): Admission {
    this.prune(now);
    const entry = this.entries.get(key);
    if (!entry) {
      this.entries.set(key, { method, path, fingerprint, createdAt: now, answer: undefined });
      return { kind: 'new' };
    }
    if (entry.method !== method || entry.path !== path) return { kind: 'other-endpoint', path: entry.path };
    if (!entry.answer) return { kind: 'in-use' };
    if (entry.fingerprint !== fingerprint) return { kind: 'other-params' };
    return { kind: 'replay', answer: entry.answer };
  }

  /** Saves the answer of the request that holds the key. */
  save(key: string, answer: SavedAnswer): void {
    const entry = this.entries.get(key);
    if (entry) entry.answer = answer;
  }

  /** Forgets a key whose request did not begin executing (it may be retried as new). */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (entry && !entry.answer) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private prune(now: number): void {
    for (const [key, entry] of this.entries) {
      if (entry.answer && now - entry.createdAt >= IDEMPOTENCY_TTL_MS) this.entries.delete(key);
    }
  }
}
