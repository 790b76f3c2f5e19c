import { errorMessage } from '../../core/errors.js';
import { CliError } from '../output.js';
import { type AdminRequest, type AdminResponse, searchOf, type Transport } from './transport.js';

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

/** A running instance's admin API at `url` (its root: `https://patchbay.example.com`). */
export function remoteTransport(
  url: string,
  token: string | undefined,
  options: { timeoutMs?: number; warn?: (line: string) => void } = {},
): Transport {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CliError(`--url must be an http(s) URL such as http://127.0.0.1:8080, got "${url}"`);
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw new CliError(`--url must be an http(s) URL, got "${base.protocol}…"`);
  if (base.username || base.password)
    throw new CliError('--url must not hold credentials: give the admin token with PATCHBAY_ADMIN_TOKEN');
  const root = base.href.replace(/\/+$/, '').replace(/\/api\/v1$/, '');
  const target = root;
  if (token && base.protocol === 'http:' && !LOOPBACK.test(base.hostname)) {
    (options.warn ?? ((line) => process.stderr.write(`${line}\n`)))(
      `warning: the admin token goes in clear text to ${base.host}; use https beyond this machine`,
    );
  }
  const timeoutMs = options.timeoutMs ?? 10 * 60_000;

  return {
    target,
    local: false,
    async send(request: AdminRequest): Promise<AdminResponse> {
      const headers: Record<string, string> = { accept: request.accept ?? 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await fetch(`${root}/api/v1${request.path}${searchOf(request.query)}`, {
          method: request.method,
          headers,
          ...(request.body !== undefined && { body: JSON.stringify(request.body) }),
          redirect: 'manual',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause;
        const why =
          cause?.code === 'ECONNREFUSED'
            ? 'connection refused (is `patchbay start` running there?)'
            : (err as Error).name === 'TimeoutError'
              ? `no answer within ${Math.round(timeoutMs / 1000)} s`
              : errorMessage(cause ?? err);
        throw new CliError(`cannot reach the admin API at ${target}: ${why}`);
      }
      return { status: response.status, body: response.body ?? emptyBody() };
    },
    async close() {},
  };
}

async function* emptyBody(): AsyncIterable<string> {}
