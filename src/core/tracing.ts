import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/**
 * OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT (or …_TRACES_ENDPOINT) is set: spans go
 * over OTLP/HTTP to the collector. Off, nothing is registered, the API's tracer is a no-op and the
 * call sites below skip their work (`tracingOn()`), so tracing off costs nothing (decision 0111) — not
 * even loading the SDK and its exporter (a few hundred modules): they are imported when tracing starts.
 */

let provider: NodeTracerProvider | undefined;

export interface Tracing {
  /** Sends the spans not yet exported and stops. */
  shutdown(): Promise<void>;
}

/** Starts the SDK if the environment asks for it; returns undefined when tracing stays off. */
export async function startTracing(env: Record<string, string | undefined>): Promise<Tracing | undefined> {
  const traces = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!traces && !base) return undefined;
  if (provider) return undefined; // one per process: the first engine's
  const url = traces || `${base!.replace(/\/+$/, '')}/v1/traces`;
  const [{ OTLPTraceExporter }, { resourceFromAttributes }, { BatchSpanProcessor, NodeTracerProvider }] =
    await Promise.all([
      import('@opentelemetry/exporter-trace-otlp-http'),
      import('@opentelemetry/resources'),
      import('@opentelemetry/sdk-trace-node'),
    ]);
  if (provider) return undefined; // another engine started it while these loaded
  const started = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'patchbay' }),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url }), { scheduledDelayMillis: 1000 })],
  });
  // The global tracer, the W3C traceparent propagator and the AsyncLocalStorage context manager.
  started.register();
  provider = started;
  return {
    async shutdown() {
      if (provider !== started) return;
      provider = undefined;
      await started.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

export function tracingOn(): boolean {
  return provider !== undefined;
}

export function tracer(): Tracer {
  return trace.getTracer('patchbay');
}

/** The W3C traceparent of `span` (for storing with an event), or null when it is not recorded. */
export function traceParentOf(span: Span | undefined): string | null {
  if (!span?.isRecording()) return null;
  const carrier: Record<string, string> = {};
  propagation.inject(trace.setSpan(context.active(), span), carrier);
  return carrier.traceparent ?? null;
}

/** The context a stored traceparent names (the event's trace), or the active one when there is none. */
export function contextOf(traceParent: string | null | undefined): Context {
  if (!traceParent) return context.active();
  return propagation.extract(context.active(), { traceparent: traceParent });
}

/** Runs `work` in a span child of `parent`; the span ends with the work, an error marks it. */
export async function inSpan<T>(
  name: string,
  parent: Context,
  attributes: Record<string, string | number | boolean>,
  work: (span: Span) => Promise<T>,
  kind: SpanKind = SpanKind.INTERNAL,
): Promise<T> {
  const span = tracer().startSpan(name, { kind, attributes }, parent);
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    throw err;
  } finally {
    span.end();
  }
}
