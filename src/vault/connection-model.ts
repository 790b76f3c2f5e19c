import type { AuthInput, AuthScheme } from '../core/config/connections.js';
import { SECRET_FIELDS } from '../core/config/connections.js';
import type { StoredConnection } from '../store/connection-store.js';
import type { ConnectionStatus } from '../store/schema.js';

/** An auth scheme's settings without its secrets (what `authConfig` holds). */
export type AuthSettings = { scheme: AuthScheme } & Record<string, unknown>;

/** The secret fields of a scheme's input (`token`, `clientSecret`…), encrypted together. */
export type AuthSecrets = Record<string, string>;

/** The tokens currently held for an OAuth connection (encrypted together). */
export interface StoredCredentials {
  accessToken: string;
  tokenType: string;
  refreshToken?: string;
  scope?: string;
}

/** A connection as the rest of Patchbay sees it: no secret in it. */
export interface Connection {
  id: string;
  provider: string;
  baseUrl: string | null;
  scheme: AuthScheme;
  settings: AuthSettings;
  /** Names of the secret fields that are set (shown masked). */
  secretFields: string[];
  status: ConnectionStatus;
  statusReason: string | null;
  metadata: Record<string, unknown>;
  origin: 'config' | 'api';
  /** Credential version: bumped by every refresh and every change of secrets. */
  version: number;
  expiresAt: number | null;
  hasAccessToken: boolean;
  createdAt: number;
  updatedAt: number;
  refreshedAt: number | null;
}

/** What replaces a secret in every view. */
export const MASK = '••••••••';

/** Splits validated auth input into its settings (stored as JSON) and its secrets (encrypted). */
export function splitAuth(auth: AuthInput): { settings: AuthSettings; secrets: AuthSecrets } {
  const secretNames = SECRET_FIELDS[auth.scheme];
  const settings: AuthSettings = { scheme: auth.scheme };
  const secrets: AuthSecrets = {};
  for (const [name, value] of Object.entries(auth)) {
    if (value === undefined) continue;
    if (secretNames.includes(name)) secrets[name] = value as string;
    else settings[name] = value;
  }
  return { settings, secrets };
}

export function toConnection(row: StoredConnection): Connection {
  const { secretFields = [], ...settings } = row.authConfig as AuthSettings & { secretFields?: string[] };
  return {
    id: row.id,
    provider: row.provider,
    baseUrl: row.baseUrl,
    scheme: row.authScheme as AuthScheme,
    settings: settings as AuthSettings,
    secretFields,
    status: row.status,
    statusReason: row.statusReason,
    metadata: row.metadata,
    origin: row.origin,
    version: row.credentialVersion,
    expiresAt: row.expiresAt,
    hasAccessToken: row.credentials !== null,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    refreshedAt: row.refreshedAt,
  };
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * The JSON the admin API and the CLI show. Secrets appear only as a fixed mask (not even a length or
 * a last-four), so the view can be logged, cached or screenshotted safely.
 */
export function connectionView(c: Connection) {
  const auth: Record<string, unknown> = { ...c.settings };
  for (const name of c.secretFields) if (name !== 'accessToken' && name !== 'refreshToken') auth[name] = MASK;
  const oauth = c.scheme === 'oauth2-client-credentials' || c.scheme === 'oauth2-authorization-code';
  return {
    id: c.id,
    provider: c.provider,
    baseUrl: c.baseUrl,
    auth,
    status: c.status,
    statusReason: c.statusReason,
    metadata: c.metadata,
    origin: c.origin,
    ...(oauth && {
      credentials: {
        accessToken: c.hasAccessToken ? MASK : null,
        expiresAt: iso(c.expiresAt),
        refreshedAt: iso(c.refreshedAt),
        version: c.version,
      },
    }),
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
  };
}

export type ConnectionView = ReturnType<typeof connectionView>;
