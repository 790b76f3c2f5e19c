import type { Clock } from '../../core/clock.js';
import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { RateLimitStore } from '../../resilience/rate-limit-store.js';
import { TokenBucketLimiter } from '../../resilience/token-bucket-limiter.js';

export interface ModelLimits {
  rpm: number;
  tpm: number;
}

interface Budget {
  limits: ModelLimits;
  requests: TokenBucketLimiter;
  tokens: TokenBucketLimiter;
}

/** What one admitted call reports when it is over. */
export interface Admission {
  /** The answer's headers (a success's, or an error's), and the error when there was one. */
  done(headers: Readonly<Record<string, string>> | undefined, error?: unknown): Promise<void>;
}

export interface ModelBudgetsOptions {
  /** Store keys start with `openai:connection:<id>:`. */
  connectionId: string;
  store: RateLimitStore;
  clock: Clock;
  /** Limits known up front by model; others are learned from the first answer's headers. */
  limits?: Readonly<Record<string, ModelLimits>>;
}

/**
 * OpenAI's request and token budgets, per model, counted in the shared limit store so every Patchbay
 * process together stays under them. Both refill evenly over a minute (OpenAI: "resets to its initial
 * state" over the window), so each is a token bucket — one of requests, one of tokens, a call costing
 * its estimated tokens. A model whose limits are not configured sends one call alone, learns them from
 * `x-ratelimit-limit-requests/tokens`, and counts from then on; every answer's `-remaining-*` corrects
 * the count (other clients of the key spend it too) and a 429 holds the budget it names until its wait.
 * https://platform.openai.com/docs/guides/rate-limits
 */
export class ModelBudgets {
  private readonly budgets = new Map<string, Budget>();
  private readonly probes = new Map<string, Promise<void>>();

  constructor(private readonly options: ModelBudgetsOptions) {
    for (const [model, limits] of Object.entries(options.limits ?? {}))
      this.budgets.set(model, this.build(model, limits));
  }

  /** Waits for a request slot and `tokens` of the model's budget (within the deadline), or for its limits to be learned. */
  async admit(
    model: string,
    tokens: number,
    wait: { signal?: AbortSignal; deadline?: number } = {},
  ): Promise<Admission> {
    for (;;) {
      const budget = this.budgets.get(model);
      if (budget) {
        if (tokens > budget.limits.tpm) {
          throw new PatchbayError(
            ErrorCode.INVALID_ARGUMENT,
            `the call is estimated at ${tokens} tokens, more than ${model}'s ${budget.limits.tpm} a minute: split it`,
            { data: { model, tokens, tpm: budget.limits.tpm } },
          );
        }
        await budget.requests.acquire(wait);
        await budget.tokens.acquire({ ...wait, cost: Math.max(1, tokens) });
        return { done: (headers, error) => this.observe(model, headers, error) };
      }
      const probe = this.probes.get(model);
      if (probe) {
        await probe;
        continue;
      }
      let settle!: () => void;
      this.probes.set(model, new Promise<void>((resolve) => (settle = resolve)));
      return {
        done: async (headers, error) => {
          try {
            await this.observe(model, headers, error);
          } finally {
            this.probes.delete(model);
            settle();
          }
        },
      };
    }
  }

  /** The limits in use for a model, configured or learned. */
  limitsOf(model: string): ModelLimits | undefined {
    return this.budgets.get(model)?.limits;
  }

  private async observe(
    model: string,
    headers: Readonly<Record<string, string>> | undefined,
    error?: unknown,
  ) {
    if (!headers) return;
    const limit = {
      rpm: count(headers['x-ratelimit-limit-requests']),
      tpm: count(headers['x-ratelimit-limit-tokens']),
    };
    let budget = this.budgets.get(model);
    if (
      limit.rpm !== undefined &&
      limit.tpm !== undefined &&
      (budget?.limits.rpm !== limit.rpm || budget.limits.tpm !== limit.tpm)
    ) {
      budget = this.build(model, limit as ModelLimits);
      this.budgets.set(model, budget);
    }
    if (!budget) return;
    const refused = error instanceof PatchbayError && error.status === 429 ? error : undefined;
    if (refused?.retryAfterMs !== undefined) {
      const which =
        (refused.data?.upstream as { type?: string } | undefined)?.type === 'requests'
          ? budget.requests
          : budget.tokens;
      await which.observe({ status: 429, retryAfterMs: refused.retryAfterMs });
      return;
    }
    const requestsLeft = count(headers['x-ratelimit-remaining-requests']);
    const tokensLeft = count(headers['x-ratelimit-remaining-tokens']);
    if (requestsLeft !== undefined)
      await budget.requests.observe({ quotas: [{ remaining: requestsLeft, limit: budget.limits.rpm }] });
    if (tokensLeft !== undefined)
      await budget.tokens.observe({ quotas: [{ remaining: tokensLeft, limit: budget.limits.tpm }] });
  }

  private build(model: string, limits: ModelLimits): Budget {
    const { connectionId, store, clock } = this.options;
    const name = (kind: string) => `openai:connection:${connectionId}:${kind}:${model}`;
    const bucket = (kind: string, perMinute: number) =>
      new TokenBucketLimiter({
        name: name(kind),
        rate: perMinute,
        periodMs: 60_000,
        burst: perMinute,
        store,
        clock,
      });
    return { limits, requests: bucket('requests', limits.rpm), tokens: bucket('tokens', limits.tpm) };
  }
}

function count(value: string | undefined): number | undefined {
  return value !== undefined && /^\d+$/.test(value.trim()) ? Number(value) : undefined;
}
