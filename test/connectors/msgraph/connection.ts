import { ConnectorClients, MsGraphMail, msgraphConnector } from '../../../src/connectors/index.js';
import type { RunningMsGraphFake } from '../../../src/connectors/msgraph/fake/index.js';
import type { Clock } from '../../../src/core/clock.js';
import type { ConnectionInput } from '../../../src/core/config/connections.js';
import { MemoryRateLimitStore, type RateLimitStore } from '../../../src/resilience/rate-limit-store.js';
import type { Database } from '../../../src/store/database.js';
import { SendLedgerStore } from '../../../src/store/send-ledger-store.js';
import type { TestVault } from '../../helpers/vault.js';

/** A `provider: msgraph` connection to the fake, by client credentials against its token endpoint. */
export function graphConnection(
  fake: RunningMsGraphFake,
  id = 'mail',
  secret = fake.app.clientSecret,
): ConnectionInput {
  return {
    id,
    provider: 'msgraph',
    baseUrl: fake.url,
    auth: {
      scheme: 'oauth2-client-credentials',
      tokenUrl: `${fake.url}/${fake.app.tenantId}/oauth2/v2.0/token`,
      clientId: fake.app.clientId,
      clientSecret: secret,
      scopes: ['https://graph.microsoft.com/.default'],
      clientAuth: 'client_secret_post',
    },
    metadata: { tenantId: fake.app.tenantId },
  };
}

export interface GraphClients {
  clients: ConnectorClients;
  mail(id?: string): Promise<MsGraphMail>;
}

export function graphClients(
  vault: TestVault,
  database: Database,
  options: {
    clock?: Clock;
    rateLimits?: RateLimitStore;
    sends?: { inFlightMs?: number; settleMs?: number };
  } = {},
): GraphClients {
  const clients = new ConnectorClients({
    connections: vault.connections,
    auth: vault.resolver,
    rateLimits: options.rateLimits ?? new MemoryRateLimitStore(),
    sendLedger: new SendLedgerStore(database),
    ...(options.sends && { sends: options.sends }),
    ...(options.clock && { clock: options.clock }),
    http: { timeoutMs: 60_000, deadlineMs: 600_000, retry: { budget: false, maxAttempts: 6 } },
  });
  return {
    clients,
    mail: async (id = 'mail') => {
      const api = await clients.api(id, msgraphConnector);
      if (!(api instanceof MsGraphMail)) throw new Error('not a Graph connection');
      return api;
    },
  };
}
