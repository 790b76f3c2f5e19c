/**
 * How the HTTP client gets credentials, without knowing where they come from. The vault implements it
 * for connections (API keys, OAuth tokens with refresh); users can pass their own.
 */
export interface AuthRequest {
  method: string;
  url: URL;
  headers: Record<string, string>;
}

export interface Authorization {
  /** Headers to set on the request (e.g. `authorization`). */
  headers?: Record<string, string>;
  /** Query parameters to set on the request (e.g. an API key passed as `?api_key=`). */
  query?: Record<string, string>;
}

export interface AuthProvider {
  /** Credentials for one attempt; called before every attempt so a refreshed token is picked up. */
  authorize(request: AuthRequest, signal?: AbortSignal): Promise<Authorization>;
  /**
   * Called once when the upstream answered 401. Resolves true when fresh credentials were obtained and
   * the request should be tried once more; false (or absent) means the 401 is final.
   */
  onUnauthorized?(signal?: AbortSignal): Promise<boolean>;
  /** Secret values (tokens, keys) to scrub from any log line or error message. */
  secrets?(): readonly string[];
}

/** Finds the auth provider for a connection id (the vault; `createHttpClient({ connection })`). */
export interface ConnectionAuthResolver {
  authProvider(connectionId: string): Promise<AuthProvider>;
}
