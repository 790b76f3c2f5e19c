/** One admin API request, as the CLI makes it (the path is under `/api/v1`). */
export interface AdminRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** `application/x-ndjson` for operations that report progress line by line. */
  accept?: string;
}

/** An answer whose body is read as it comes (progress lines arrive before the result). */
export interface AdminResponse {
  status: number;
  body: AsyncIterable<Uint8Array | string>;
}

/**
 * How the CLI reaches the admin API: over HTTP to a running instance (`--url`), or injected into the
 * same Fastify app `start` serves, built on the local store. Either way the commands see one API.
 */
export interface Transport {
  /** Where the answers come from, for messages: the URL, or the local store. */
  readonly target: string;
  /** True for this machine's store: the work a request starts runs in this process. */
  readonly local: boolean;
  send(request: AdminRequest): Promise<AdminResponse>;
  close(): Promise<void>;
}

export function searchOf(query: AdminRequest['query']): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== undefined) params.set(key, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
