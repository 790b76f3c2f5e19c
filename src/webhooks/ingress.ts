import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { type Clock, systemClock } from '../core/clock.js';
import type { SourceConfig } from '../core/config/schema.js';
import { ErrorCode, PatchbayError } from '../core/errors.js';
import { newId } from '../core/ids.js';
import { inSpan, traceParentOf, tracer, tracingOn } from '../core/tracing.js';
import type { NewEvent } from '../store/event-store.js';
import type { EventPipeline } from './pipeline.js';
import {
  createWebhookVerifier,
  type HandshakeResponse,
  type HeaderInput,
  headersToStore,
  type WebhookFailureCode,
  type WebhookSchemeName,
  type WebhookVerifier,
} from './verify/index.js';

/** One incoming request, as any HTTP server sees it. */
export interface IngressRequest {
  rawBody: Buffer;
  headers: HeaderInput;
  /** Path and query as received (`/webhooks/crm?x=1`). */
  url: string;
  method: string;
  /** The `content-type` header, if any. */
  contentType: string | undefined;
  /** Correlates the events split out of this request (and the log lines): the server's request id. */
  requestId: string;
}

export type IngressRejection =
  | WebhookFailureCode
  | 'SOURCE_NOT_FOUND'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE';

/** What to answer. `accepted` is only returned once the events are committed. */
export type IngressOutcome =
  | { kind: 'handshake'; response: HandshakeResponse }
  | { kind: 'rejected'; status: 400 | 401 | 404 | 413 | 415; code: IngressRejection; reason: string }
  | { kind: 'accepted'; status: 200 | 202; stored: number; duplicates: number };

/** `config`: declared in the configuration file; `api`: made through the admin API (stored, encrypted). */
export type SourceOrigin = 'config' | 'api';

/** A source as the admin API shows it: never its secrets. */
export interface SourceView {
  id: string;
  origin: SourceOrigin;
  scheme: WebhookSchemeName;
  secrets: number;
  bodyLimit: number;
  retentionMs: number;
  insecure: boolean;
}

interface Source {
  view: SourceView;
  verifier: WebhookVerifier;
  /** A signature header the source's configuration names (`hmac-sha256`'s `header`): never stored. */
  signatureHeaders: readonly string[];
}

export interface IngressOptions {
  sources: readonly SourceConfig[];
  pipeline: EventPipeline;
  /** Body limit of sources that set none (the server's `bodyLimit`). */
  defaultBodyLimit: number;
  /** Retention of sources that set none (`events.retention`). */
  defaultRetentionMs: number;
  clock?: Clock;
  registry?: Registry;
  logger?: Logger;
  /**
   * Brings the sources other processes made, changed or deleted up to date before a request is matched;
   * returns undefined when this process's copy is fresh (no await on the hot path). Unknown ids cost no
   * read of their own, so a scanner cannot turn 404s into store reads.
   */
  revalidate?: () => Promise<void> | undefined;
  /**
   * Told each request's outcome for a known source: accepted (handshakes included), refused with its code,
   * or failed storing (`STORE_FAILED`, the error then thrown), and how long it took. Must not throw.
   */
  onOutcome?: (sourceId: string, outcome: IngressObservation) => void;
}

/** One request as `onOutcome` sees it. */
export interface IngressObservation {
  accepted: boolean;
  /** The refusal's code, or `STORE_FAILED`. */
  code?: IngressRejection | 'STORE_FAILED';
  durationMs: number;
}

// JSON in all its spellings, forms (slash commands and interactivity post forms), and text/plain (validation
// handshakes). Anything else with a body is refused before a single byte is parsed.
const ACCEPTED_TYPE = /^(application\/(json|[\w.+-]+\+json|x-www-form-urlencoded)|text\/plain)\s*(;|$)/i;

/**
 * `POST /webhooks/:sourceId` without the HTTP server: finds the source, checks size and media type, verifies
 * the raw bytes, splits the request into events and stores them (deduplicated, group-committed, routed in the
 * same transaction). The caller acknowledges only after `receive` resolves with `accepted`: an acknowledged
 * event is durable.
 */
export class WebhookIngress {
  private readonly sources = new Map<string, Source>();
  private readonly pipeline: EventPipeline;
  private readonly clock: Clock;
  private readonly received?: Counter<'source' | 'outcome'>;
  private readonly rejected?: Counter<'source' | 'code'>;
  private readonly defaults: { bodyLimit: number; retentionMs: number };
  private readonly logger: Logger | undefined;
  private readonly revalidate: (() => Promise<void> | undefined) | undefined;
  private readonly onOutcome: IngressOptions['onOutcome'];
  private bodyCeiling = 0;

  constructor(options: IngressOptions) {
    this.pipeline = options.pipeline;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger;
    this.revalidate = options.revalidate;
    this.onOutcome = options.onOutcome;
    this.defaults = { bodyLimit: options.defaultBodyLimit, retentionMs: options.defaultRetentionMs };
    for (const source of options.sources) this.define(source, 'config');
    this.bodyCeiling = Math.max(this.defaults.bodyLimit, ...this.list().map((s) => s.bodyLimit));
    if (options.registry) {
      this.received = new Counter({
        name: 'patchbay_webhooks_received_total',
        help: 'Webhook requests received, by source and outcome (accepted, duplicate, rejected, handshake).',
        labelNames: ['source', 'outcome'],
        registers: [options.registry],
      });
      this.rejected = new Counter({
        name: 'patchbay_webhooks_rejected_total',
        help: 'Webhook requests refused, by source and reason code (SIGNATURE_INVALID, PAYLOAD_TOO_LARGE…).',
        labelNames: ['source', 'code'],
        registers: [options.registry],
      });
    }
  }

  /**
   * Adds or replaces a source. Its verifier checks secrets and options now, so a bad source fails here
   * (start-up, or the API call), not on its first request.
   */
  define(source: SourceConfig, origin: SourceOrigin): SourceView {
    const { scheme, secrets, tolerance, ...schemeOptions } = source.verify;
    const verifier = createWebhookVerifier(scheme, {
      secrets,
      ...(tolerance !== undefined && { toleranceMs: tolerance }),
      options: schemeOptions,
      now: () => this.clock.now(),
    });
    const view: SourceView = {
      id: source.id,
      origin,
      scheme,
      secrets: secrets.length,
      bodyLimit: source.bodyLimit ?? this.defaults.bodyLimit,
      retentionMs: source.retention ?? this.defaults.retentionMs,
      insecure: !verifier.info.authenticates,
    };
    if (origin === 'api' && view.bodyLimit > this.bodyCeiling) {
      throw new PatchbayError(
        ErrorCode.INVALID_ARGUMENT,
        `bodyLimit: at most ${this.bodyCeiling} bytes (the largest limit the server reads; raise server.bodyLimit to allow more)`,
      );
    }
    const signatureHeaders = schemeOptions.header !== undefined ? [schemeOptions.header] : [];
    this.sources.set(source.id, { view, verifier, signatureHeaders });
    if (view.insecure) {
      this.logger?.warn(
        { source: source.id },
        `source "${source.id}" accepts UNSIGNED webhooks (verify.scheme: none): anyone who can reach the URL can inject events`,
      );
    }
    return view;
  }

  remove(id: string): void {
    this.sources.delete(id);
  }

  list(): SourceView[] {
    return [...this.sources.values()].map((s) => s.view);
  }

  get(id: string): SourceView | undefined {
    return this.sources.get(id)?.view;
  }

  /**
   * What the HTTP server may read before the per-source check: the largest limit of the configured
   * sources (and the server default), fixed at start-up; API-made sources must fit under it.
   */
  get routeBodyLimit(): number {
    return this.bodyCeiling;
  }

  /** Per-source retention, for the pruning job. */
  /** Requests this process refused since it started, by source and reason code (from its metrics). */
  async rejections(): Promise<{ source: string; code: string; count: number }[]> {
    const metric = await this.rejected?.get();
    return (metric?.values ?? [])
      .filter((v) => v.value > 0)
      .map((v) => ({ source: String(v.labels.source), code: String(v.labels.code), count: v.value }));
  }

  retentions(): Map<string, number> {
    return new Map(this.list().map((s) => [s.id, s.retentionMs]));
  }

  async receive(sourceId: string, request: IngressRequest): Promise<IngressOutcome> {
    const pending = this.revalidate?.();
    if (pending) await pending;
    const source = this.sources.get(sourceId);
    // Unknown ids are not echoed into metric labels: a scanner must not grow the label set.
    if (!source) return this.reject('(unknown)', 404, 'SOURCE_NOT_FOUND', 'no webhook source with this id');
    const { view, verifier, signatureHeaders } = source;
    const { info } = verifier;
    const now = this.clock.now();
    if (request.rawBody.length > view.bodyLimit) {
      return this.reject(view.id, 413, 'PAYLOAD_TOO_LARGE', `body exceeds ${view.bodyLimit} bytes`, now);
    }
    if (request.rawBody.length > 0 && !ACCEPTED_TYPE.test(request.contentType ?? '')) {
      return this.reject(
        view.id,
        415,
        'UNSUPPORTED_MEDIA_TYPE',
        `content-type ${JSON.stringify(request.contentType ?? '')} is not accepted; send application/json`,
        now,
      );
    }
    const traced = tracingOn();
    // The request's span (the server's, continuing the sender's traceparent), when there is one.
    const requestSpan = traced ? trace.getActiveSpan() : undefined;
    const verifying = traced
      ? tracer().startSpan('webhook verify', {
          attributes: { 'patchbay.source': view.id, 'patchbay.scheme': view.scheme },
        })
      : undefined;
    const result = verifier.receive({
      rawBody: request.rawBody,
      headers: request.headers,
      url: request.url,
      method: request.method,
      now,
    });
    if (verifying) {
      verifying.setAttribute('patchbay.outcome', result.kind);
      if (result.kind === 'rejected')
        verifying.setStatus({ code: SpanStatusCode.ERROR, message: result.failure.reason });
      verifying.end();
    }
    if (result.kind === 'handshake') {
      this.received?.inc({ source: view.id, outcome: 'handshake' });
      this.observe(view.id, { accepted: true, durationMs: this.clock.now() - now });
      return result;
    }
    if (result.kind === 'rejected') {
      const { status, code, reason } = result.failure;
      return this.reject(view.id, status, code, reason, now);
    }
    const headers = headersToStore(view.scheme, request.headers, signatureHeaders);
    // One event per request keeps the exact bytes; split requests store each element, and so does a
    // scheme whose body holds a secret its parser removed (the scheme says so).
    const keepRaw = result.events.length === 1 && info.storesRawBody;
    const events: NewEvent[] = result.events.map((event) => ({
      id: newId('evt', now),
      source: view.id,
      externalId: event.externalId,
      type: event.type,
      headers,
      body: keepRaw ? request.rawBody : Buffer.from(JSON.stringify(event.payload)),
      contentType: keepRaw ? (request.contentType ?? null) : 'application/json',
      requestId: request.requestId,
      verification: view.insecure ? 'unverified' : view.scheme,
      receivedAt: now,
      occurredAt: event.occurredAt ?? null,
    }));
    const ingesting = traced
      ? inSpan('webhook persist', context.active(), { 'patchbay.events': events.length }, (span) => {
          // Deliveries join the request's trace (or this span's, without a server span).
          const traceParent = traceParentOf(requestSpan) ?? traceParentOf(span);
          for (const event of events) event.traceParent = traceParent;
          return this.pipeline.ingest(events);
        })
      : this.pipeline.ingest(events);
    const outcomes = this.onOutcome
      ? await ingesting.catch((error: unknown) => {
          this.observe(view.id, {
            accepted: false,
            code: 'STORE_FAILED',
            durationMs: this.clock.now() - now,
          });
          throw error;
        })
      : await ingesting;
    const duplicates = outcomes.filter((o) => o.duplicate).length;
    const stored = outcomes.length - duplicates;
    if (stored > 0) this.received?.inc({ source: view.id, outcome: 'accepted' }, stored);
    if (duplicates > 0) this.received?.inc({ source: view.id, outcome: 'duplicate' }, duplicates);
    this.observe(view.id, { accepted: true, durationMs: this.clock.now() - now });
    return { kind: 'accepted', status: info.acceptedStatus, stored, duplicates };
  }

  private reject(
    source: string,
    status: 400 | 401 | 404 | 413 | 415,
    code: IngressRejection,
    reason: string,
    startedAt?: number,
  ): IngressOutcome {
    this.received?.inc({ source, outcome: 'rejected' });
    this.rejected?.inc({ source, code });
    // Unknown sources (no start time) are not recorded: a scanner must not grow the traffic table.
    if (startedAt !== undefined)
      this.observe(source, { accepted: false, code, durationMs: this.clock.now() - startedAt });
    return { kind: 'rejected', status, code, reason };
  }

  private observe(source: string, observation: IngressObservation): void {
    if (!this.onOutcome) return;
    try {
      this.onOutcome(source, observation);
    } catch {
      // An observer's bug must not change the request's answer.
    }
  }
}
