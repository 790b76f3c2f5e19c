import type { Command } from 'commander';
import type { GlobalOptions } from '../lifecycle.js';
import { CliError } from '../output.js';
import type { AdminRequest, Transport } from './transport.js';

/** Options of every command that talks to the admin API. */
export interface AdminOptions extends GlobalOptions {
  url?: string;
  token?: string;
}

/** `-c`, `--url` and `--token`, the same on every command that works locally or remotely. */
export function adminOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'config file (local mode)')
    .option('--url <url>', 'a running instance to manage through its admin API (default: PATCHBAY_URL)')
    .option(
      '--token <token>',
      'its admin token (default: PATCHBAY_ADMIN_TOKEN; prefer the variable: ps and shell history show options)',
    );
}

/** The first page size the API takes; longer `--limit`s are read page by page. */
const API_PAGE = 500;

/**
 * The admin API as the CLI's commands use it: JSON in and out, an error answer turned into the
 * message the API gave (a 404's "no event evt_…", a 400 naming the field), one way for both transports.
 */
export class AdminApi {
  constructor(private readonly transport: Transport) {}

  get target(): string {
    return this.transport.target;
  }

  /** True when the API is this process's (no `--url`): what a request starts runs here. */
  get local(): boolean {
    return this.transport.local;
  }

  get<T>(path: string, query?: AdminRequest['query']): Promise<T> {
    return this.json<T>({ method: 'GET', path, ...(query && { query }) });
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.json<T>({ method: 'POST', path, body: body ?? {} });
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.json<T>({ method: 'PATCH', path, body });
  }

  async delete(path: string): Promise<void> {
    await this.json({ method: 'DELETE', path });
  }

  /**
   * Up to `limit` items of a list endpoint, reading as many API pages as that takes; `nextCursor` is
   * where the next `--cursor` continues (absent on the last page).
   */
  async list<T>(
    path: string,
    query: AdminRequest['query'],
    limit: number,
    cursor: string | undefined,
  ): Promise<{ data: T[]; nextCursor?: string }> {
    const data: T[] = [];
    let next = cursor;
    for (;;) {
      const size = Math.min(API_PAGE, limit - data.length);
      const page = await this.get<{ data: T[]; nextCursor?: string }>(path, {
        ...query,
        limit: size,
        ...(next !== undefined && { cursor: next }),
      });
      data.push(...page.data);
      next = page.nextCursor;
      if (next === undefined) return { data };
      if (data.length >= limit) return { data, nextCursor: next };
    }
  }

  /**
   * A long operation answered as NDJSON: `{"progress":{done,total}}` lines, then `{"result":…}` or
   * `{"error":{…}}` (the status is sent before the work starts, so a failure comes as a line).
   */
  async withProgress<T>(
    request: Omit<AdminRequest, 'accept'>,
    onProgress: (done: number, total: number) => void,
  ): Promise<T> {
    const response = await this.transport.send({ ...request, accept: 'application/x-ndjson' });
    if (response.status >= 300) throw failure(this.target, response.status, await readAll(response.body));
    let result: { value: T } | undefined;
    for await (const line of lines(response.body)) {
      if (line.trim() === '') continue;
      const message = parse(line) as { progress?: { done: number; total: number }; result?: T };
      if (message.progress) onProgress(message.progress.done, message.progress.total);
      else if ('result' in message) result = { value: message.result as T };
      else throw failure(this.target, 500, line);
    }
    if (!result) throw new CliError(`the admin API at ${this.target} ended the operation without a result`);
    return result.value;
  }

  private async json<T>(request: AdminRequest): Promise<T> {
    const response = await this.transport.send(request);
    const text = await readAll(response.body);
    if (response.status >= 300) throw failure(this.target, response.status, text);
    return (text === '' ? undefined : parse(text)) as T;
  }
}

/** Opens the admin API the options name (`--url`/`PATCHBAY_URL`, else this machine's store), runs `fn`, closes it. */
export async function withAdminApi<T>(options: AdminOptions, fn: (api: AdminApi) => Promise<T>): Promise<T> {
  const transport = await openTransport(options);
  try {
    return await fn(new AdminApi(transport));
  } finally {
    await transport.close();
  }
}

async function openTransport(options: AdminOptions): Promise<Transport> {
  const url = options.url ?? (process.env.PATCHBAY_URL || undefined);
  if (url !== undefined) {
    if (options.config) throw new CliError('give either --url (a running instance) or --config, not both');
    const { remoteTransport } = await import('./remote-transport.js');
    return remoteTransport(url, options.token ?? (process.env.PATCHBAY_ADMIN_TOKEN || undefined));
  }
  if (options.token !== undefined)
    throw new CliError('--token goes with --url: locally, the admin token is the configuration’s');
  // The engine, the server and every module: loaded only for a command that works on the local store.
  const { localTransport } = await import('./local-transport.js');
  return localTransport(options);
}

function failure(target: string, status: number, text: string): CliError {
  let message: string | undefined;
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string; requestId?: string } };
    message = body.error?.message;
    code = body.error?.code;
    if (status >= 500 && body.error?.requestId) message = `${message} (request ${body.error.requestId})`;
  } catch {
    // not the API's error shape (a proxy's page): said below with the status.
  }
  if (status === 401 && code === 'UNAUTHORIZED')
    return new CliError(
      `the admin API at ${target} refused the token (${message}): set PATCHBAY_ADMIN_TOKEN to its admin token`,
    );
  if (message) return new CliError(message);
  return new CliError(
    `the admin API at ${target} answered ${status}${text ? `: ${text.slice(0, 200).trim()}` : ''}`,
  );
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CliError(`the admin API answered something that is not JSON: ${text.slice(0, 200)}`);
  }
}

async function readAll(body: AsyncIterable<Uint8Array | string>): Promise<string> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body)
    text += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

async function* lines(body: AsyncIterable<Uint8Array | string>): AsyncIterable<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline = buffered.indexOf('\n');
    while (newline >= 0) {
      yield buffered.slice(0, newline);
      buffered = buffered.slice(newline + 1);
      newline = buffered.indexOf('\n');
    }
  }
  buffered += decoder.decode();
  if (buffered !== '') yield buffered;
}
