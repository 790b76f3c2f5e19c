import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FakeKit } from '../../fake-kit/index.js';
import { Budgets, type ModelLimits } from './budgets.js';
import { goDuration } from './go-duration.js';
import type { FakeModel } from './models.js';
import { ERRORS, sendOpenAIError } from './openai-errors.js';

const KEY = /^sk-[A-Za-z0-9_-]{8,}$/;

export interface AdmissionOptions {
  /** Accept only this key. Defaults to any key of the form `sk-…`. */
  apiKey?: string;
  /** Limits by model id, replacing the catalog's. */
  limits?: Readonly<Record<string, ModelLimits>>;
}

/**
 * Who may call and how much: the bearer key (401), the key's quota (429 `insufficient_quota`, which
 * waiting does not cure), the request and token budgets of the key and model (429 `rate_limit_exceeded`
 * with `retry-after-ms`), and an overload the tests can switch on (503 with `x-should-retry: true`).
 * Every answer past the key check carries the `x-ratelimit-*` headers.
 */
export class Admission {
  readonly budgets = new Budgets();
  /** Tokens each key may still spend; absent means unlimited. `*` applies to every key. */
  quota = new Map<string, number>();
  overloaded = 0;
  limits: Record<string, ModelLimits>;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly kit: Pick<FakeKit, 'clock' | 'count'>,
  ) {
    this.limits = { ...options.limits };
  }

  /** The caller's key, or undefined once a 401 has been sent. */
  key(request: FastifyRequest, reply: FastifyReply): string | undefined {
    reply
      .header('x-request-id', `req_${randomBytes(16).toString('hex')}`)
      .header('openai-version', '2020-10-01');
    const auth = request.headers.authorization;
    const key = auth ? /^Bearer\s+(.+)$/.exec(auth)?.[1]?.trim() : undefined;
    if (!key) {
      sendOpenAIError(reply, 401, ERRORS.noKey);
      return undefined;
    }
    const valid = this.options.apiKey === undefined ? KEY.test(key) : key === this.options.apiKey;
    if (!valid) {
      sendOpenAIError(reply, 401, ERRORS.badKey(key));
      return undefined;
    }
    return key;
  }

  /** Charges the call, or answers why not (and returns false). */
  admit(key: string, model: FakeModel, tokens: number, reply: FastifyReply): boolean {
    const left = this.quota.get(key) ?? this.quota.get('*');
    if (left !== undefined && left < tokens) {
      this.kit.count('429:insufficient_quota');
      sendOpenAIError(reply, 429, ERRORS.quota);
      return false;
    }
    const limits = this.limits[model.id] ?? model.limits;
    const now = this.kit.clock.now();
    const answer = this.budgets.charge(key, model.id, limits, tokens, now);
    reply.headers(answer.headers);
    if (!answer.ok) {
      this.kit.count(`429:${answer.limit}`);
      const unit = answer.limit === 'requests' ? 'requests per min (RPM)' : 'tokens per min (TPM)';
      const requested = answer.limit === 'requests' ? 1 : tokens;
      sendOpenAIError(
        reply,
        429,
        {
          message: `Rate limit reached for ${model.id} in organization org-fake on ${unit}: Limit ${answer.cap}, Used ${answer.used}, Requested ${requested}. Please try again in ${goDuration(answer.waitMs)}. Visit https://platform.openai.com/account/rate-limits to learn more.`,
          type: answer.limit,
          param: null,
          code: 'rate_limit_exceeded',
        },
        { 'retry-after-ms': String(answer.waitMs), 'retry-after': String(Math.ceil(answer.waitMs / 1000)) },
      );
      return false;
    }
    if (this.overloaded > 0) {
      this.overloaded--;
      sendOpenAIError(reply, 503, ERRORS.overloaded, { 'x-should-retry': 'true' });
      return false;
    }
    if (left !== undefined) this.quota.set(this.quota.has(key) ? key : '*', left - tokens);
    return true;
  }

  reset(): void {
    this.budgets.reset();
    this.quota.clear();
    this.overloaded = 0;
    this.limits = { ...this.options.limits };
  }
}
