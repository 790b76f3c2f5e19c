import type { Classification } from '../resilience/classification.js';

/** An answer that is not a success, as a provider's error reader sees it. Header names are lower case. */
export interface UpstreamAnswer {
  status: number;
  headers: Readonly<Record<string, string>>;
  /** The body as text (JSON is the reader's to parse: providers nest it differently). */
  body: string;
}

/** What a provider's error body says, beyond its status. Every field is optional. */
export interface UpstreamErrorReading {
  /** The provider's own words, short (they end the error's message). */
  message?: string;
  /** The provider's error code or category (HubSpot `category`, Graph `error.code`). */
  code?: string;
  /** How long to wait, when the body says it and the headers do not (HubSpot's `policyName`). */
  retryAfterMs?: number;
  /** Replaces the status's classification (HubSpot: a daily 429 is final until the reset). */
  classification?: Classification;
  /** Identifiers for the provider's support and fields a caller decides on (`correlationId`, `policyName`). */
  details?: Readonly<Record<string, string | number | boolean>>;
}

/** A connector's reading of its provider's error answers; undefined leaves the answer to the status. */
export type UpstreamErrorReader = (answer: UpstreamAnswer, now: number) => UpstreamErrorReading | undefined;

/** An answer's body parsed as JSON for a reader, or undefined when it is not JSON. */
export function parseJsonBody(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}
