import type { IncomingHttpHeaders } from 'node:http';
import type { TokenClaims } from './access-tokens.js';
import type { Mailbox } from './mailbox.js';
import type { Preferences, QueryOptions } from './odata-query.js';

/** What a Graph route sees: the request already authenticated, its mailbox resolved and throttled. */
export interface GraphRequest {
  method: string;
  /** Captured path parameters (`:user`, `:folder`, `:message`…), decoded. */
  params: Record<string, string>;
  query: QueryOptions;
  headers: IncomingHttpHeaders;
  /** Parsed JSON, a Buffer for other types, `INVALID_JSON`, or undefined when empty. */
  body: unknown;
  claims: TokenClaims;
  /** Set for routes under `users/:user/` that reach a mailbox. */
  mailbox: Mailbox;
  /** `https://127.0.0.1:1234`: links in answers point back here. */
  origin: string;
  prefer: Preferences;
  now: number;
}

export interface GraphReply {
  status: number;
  /** Sent as JSON; omitted for 202/204. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Bytes sent as they are (`$value`). */
  raw?: { bytes: Buffer; contentType: string };
}

/** The application permission a route needs, any one of the listed roles. */
export type Access = 'mail.read' | 'mail.write' | 'mail.send' | 'users.read' | 'none';

export interface GraphRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Segments after `/v1.0/`, lower case literals and `:name` captures: `users/:user/messages/:message`. */
  pattern: string;
  access: Access;
  handle(request: GraphRequest): GraphReply | Promise<GraphReply>;
}

export const ROLES: Record<Access, readonly string[]> = {
  'mail.read': ['Mail.Read', 'Mail.ReadWrite', 'Mail.ReadBasic', 'Mail.ReadBasic.All'],
  'mail.write': ['Mail.ReadWrite'],
  'mail.send': ['Mail.Send'],
  'users.read': ['User.Read.All', 'User.ReadWrite.All', 'Directory.Read.All', 'Directory.ReadWrite.All'],
  none: [],
};

export const json = (body: unknown, status = 200, headers?: Record<string, string>): GraphReply =>
  headers ? { status, body, headers } : { status, body };
