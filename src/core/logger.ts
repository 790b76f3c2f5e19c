import { trace } from '@opentelemetry/api';
import { type DestinationStream, type Logger, pino } from 'pino';
import { type LineSink, type LogFormat, prettyStream, resolveLogFormat } from './log-format.js';

export type { Logger } from 'pino';

/**
 * Paths pino censors in every log line. Secrets are also kept out of log calls by construction (the HTTP
 * client logs a redacted view of requests); this list is the second line of defence.
 */
export const REDACTED_PATHS = [
  'authorization',
  'password',
  'secret',
  'secrets',
  'token',
  'accessToken',
  'refreshToken',
  'access_token',
  'refresh_token',
  'clientSecret',
  'client_secret',
  'apiKey',
  'api_key',
  '*.authorization',
  '*.Authorization',
  '*.password',
  '*.secret',
  '*.secrets',
  '*.token',
  '*.accessToken',
  '*.refreshToken',
  '*.access_token',
  '*.refresh_token',
  '*.clientSecret',
  '*.client_secret',
  '*.apiKey',
  '*.api_key',
  '*.cookie',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers.cookie',
];

export interface LoggerOptions {
  level?: string;
  /** Where lines go; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream & { isTTY?: boolean };
  name?: string;
  /**
   * `pretty` (readable lines), `json` (one object a line) or `auto`: pretty when the destination is a
   * terminal. Defaults to `PATCHBAY_LOG_FORMAT`, else `auto`.
   */
  format?: LogFormat;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.PATCHBAY_LOG_LEVEL ?? 'info';
  const out: LineSink = options.destination ?? process.stdout;
  const format = resolveLogFormat(options.format ?? envLogFormat() ?? 'auto', out);
  const destination = format === 'pretty' ? prettyStream(out) : options.destination;
  return pino(
    {
      level,
      ...(options.name !== undefined && { name: options.name }),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
      // Lines written inside a traced span carry its ids (nothing is active while tracing is off).
      mixin: traceIds,
    },
    destination,
  );
}

function traceIds(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

function envLogFormat(): LogFormat | undefined {
  const value = process.env.PATCHBAY_LOG_FORMAT;
  return value === 'pretty' || value === 'json' || value === 'auto' ? value : undefined;
}

/** A logger that writes nothing, for library users who pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
