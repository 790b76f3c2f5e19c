import { errorMessage, isPatchbayError } from '../core/errors.js';

/** Thrown by commands to end with a message and an exit code, without a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** One clear message for any failure; a stack trace only with PATCHBAY_DEBUG=1. */
export function describeFailure(err: unknown): string {
  if (err instanceof CliError || isPatchbayError(err)) return err.message;
  const code = (err as { code?: string }).code;
  if (code === 'EADDRINUSE') {
    const e = err as { address?: string; port?: number };
    return `port ${e.port} on ${e.address} is already in use; stop the other process or set PATCHBAY_PORT`;
  }
  if (code === 'EACCES') return `permission denied: ${errorMessage(err)}`;
  if (process.env.PATCHBAY_DEBUG === '1' && err instanceof Error && err.stack) return err.stack;
  return errorMessage(err);
}

export function printFailure(err: unknown): void {
  process.stderr.write(`patchbay: ${describeFailure(err)}\n`);
}
