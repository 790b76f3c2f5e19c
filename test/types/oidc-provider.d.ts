// The little of oidc-provider 9 the tests use (the package ships no types).
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';

  interface StoredToken {
    jti: string;
    clientId?: string;
    grantId?: string;
    exp?: number;
    iat?: number;
    isExpired: boolean;
    destroy(): Promise<void>;
  }
  interface TokenModel {
    find(value: string, options?: { ignoreExpiration?: boolean }): Promise<StoredToken | undefined>;
  }
  interface OidcContext {
    oidc: {
      params?: Record<string, unknown>;
      entities: Record<string, { jti?: string; grantId?: string; exp?: number; iat?: number } | undefined>;
      client?: { clientId: string };
    };
  }
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    on(event: string, listener: (ctx: OidcContext, ...rest: unknown[]) => void): this;
    AccessToken: TokenModel;
    ClientCredentials: TokenModel;
    RefreshToken: TokenModel;
    Grant: { find(id: string): Promise<{ destroy(): Promise<void> } | undefined> };
    proxy: boolean;
  }
}
