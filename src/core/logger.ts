import { type DestinationStream, type Logger, pino } from 'pino';

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
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.PATCHBAY_LOG_LEVEL ?? 'info';
  return pino(
    {
      level,
      ...(options.name !== undefined && { name: options.name }),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      base: { pid: process.pid },
    },
    options.destination,
  );
}

/** A logger that writes nothing, for library users who pass none. */
export const silentLogger: Logger = pino({ level: 'silent' });
