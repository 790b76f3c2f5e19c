/**
 * `patchbay/http`: the resilient HTTP client every connector uses, and its helpers.
 */
export { ErrorCode, isPatchbayError, PatchbayError } from '../core/errors.js';
export type { Authorization, AuthProvider, AuthRequest, ConnectionAuthResolver } from './auth-provider.js';
export { type BatchOptions, type BatchResult, batch, type FailedChunk } from './batch.js';
export {
  type CallMatch,
  type HttpClientOptions,
  httpClientDefaults,
  type RateLimitSpec,
} from './client-options.js';
export { createHttpClient, type HttpClient } from './create-http-client.js';
export { type HttpMetrics, httpMetrics } from './http-metrics.js';
export type {
  CallState,
  Handler,
  HttpCall,
  HttpRequest,
  HttpResponse,
  Interceptor,
  QueryValue,
  RawResponse,
  ResponseSchema,
} from './http-types.js';
export { nextLink } from './link-header.js';
export { type Page, type PageStrategy, type PaginateOptions, paginate, paginatePages } from './paginate.js';
export * from './ssrf/index.js';
export type { UpstreamAnswer, UpstreamErrorReader, UpstreamErrorReading } from './upstream-error.js';
