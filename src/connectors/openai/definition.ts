import { z } from 'zod';
import type { ProviderDefinition } from '../provider.js';
import { openaiErrorReader } from './errors.js';

export const OPENAI_API = 'https://api.openai.com/v1';

const limits = z.strictObject({
  rpm: z.number({ error: 'must be a number' }).int('must be a whole number').positive(),
  tpm: z.number({ error: 'must be a number' }).int('must be a whole number').positive(),
});

/** A connection's `metadata` for `provider: openai`. */
export const openaiSettingsSchema = z.strictObject({
  /** Sent as `OpenAI-Organization`, for keys that belong to several. */
  organization: z.string().min(1, 'must not be empty').optional(),
  /** Sent as `OpenAI-Project`. */
  project: z.string().min(1, 'must not be empty').optional(),
  /**
   * Requests and tokens per minute by model, as the account's limits page shows them. A model left out
   * has its budget learned from the first answer's `x-ratelimit-limit-*` headers.
   */
  limits: z.record(z.string(), limits).default({}),
  /** Tokens a completion is counted for, before the call, when the request sets no `max_tokens`. Defaults to 1,024. */
  expectedCompletionTokens: z.number().int().positive().default(1024),
});

export type OpenAISettings = z.output<typeof openaiSettingsSchema>;

/**
 * OpenAI: an API key as bearer token, `https://api.openai.com/v1`, request and token budgets per model
 * (counted by the connector, which knows each call's tokens), `{error:{…}}` bodies, time limits for
 * long completions (10 min an attempt, as the SDK), Standard Webhooks.
 * https://platform.openai.com/docs/api-reference
 */
export const openaiDefinition: ProviderDefinition<OpenAISettings> = {
  id: 'openai',
  name: 'OpenAI',
  docsUrl: 'https://platform.openai.com/docs/api-reference',
  guide: 'docs/connectors/openai.md',
  settings: openaiSettingsSchema,
  auth: [{ scheme: 'bearer', describe: 'an API key (platform.openai.com → API keys, "sk-…")' }],
  baseUrl: () => OPENAI_API,
  // Budgets are per model and per token: `ModelBudgets` counts them, with each call's cost.
  rateLimits: () => [],
  // The SDK retries 409 (a lock timeout) too.
  classify: { statuses: { 409: 'transient' } },
  readError: () => openaiErrorReader,
  timeouts: { timeoutMs: 600_000, deadlineMs: 1_800_000 },
  webhook: { scheme: 'standard-webhooks' },
  check: () => ({ path: '/models' }),
};
