import { DEFAULT_TENANT_ID } from './directory.js';
import { stableGuid } from './graph-ids.js';

/** An app registration in Entra ID, with the application permissions it was granted. */
export interface AppRegistration {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  displayName: string;
  /** Application permissions (app roles) requested: `Mail.ReadWrite`, `Mail.Send`, `User.Read.All`. */
  permissions: string[];
  /** Without an admin's consent, application permissions are not granted: tokens carry no roles. */
  adminConsent: boolean;
}

export const DEFAULT_PERMISSIONS = ['Mail.ReadWrite', 'Mail.Send', 'User.Read.All'];

/** The registration `GET /_fake/apps` lists, usable with no set-up; its ids are stable across restarts. */
export function defaultApp(): AppRegistration {
  return {
    tenantId: DEFAULT_TENANT_ID,
    clientId: stableGuid('patchbay-fake-app'),
    clientSecret: 'fake~client~secret~0123456789abcdefghij',
    displayName: 'Patchbay (fake registration)',
    permissions: [...DEFAULT_PERMISSIONS],
    adminConsent: true,
  };
}

export class AppRegistry {
  private readonly apps = new Map<string, AppRegistration>();

  reset(): void {
    this.apps.clear();
    this.add(defaultApp());
  }

  add(app: AppRegistration): AppRegistration {
    this.apps.set(app.clientId.toLowerCase(), app);
    return app;
  }

  get(clientId: string): AppRegistration | undefined {
    return this.apps.get(clientId.toLowerCase());
  }

  list(): AppRegistration[] {
    return [...this.apps.values()];
  }

  /** The roles a token for this app carries. */
  static roles(app: AppRegistration): string[] {
    return app.adminConsent ? [...app.permissions] : [];
  }
}
