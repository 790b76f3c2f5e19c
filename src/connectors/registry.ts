import { finaleConnector } from './finale/connector.js';
import { githubConnector } from './github/connector.js';
import { hubspotConnector } from './hubspot/connector.js';
import { msgraphConnector } from './msgraph/connector.js';
import { openaiConnector } from './openai/connector.js';
import type { Connector } from './provider.js';
import { sendgridConnector } from './sendgrid/connector.js';
import { stripeConnector } from './stripe/connector.js';

/** Connectors by `provider:` id. */
export type ConnectorRegistry = ReadonlyMap<string, Connector>;

/** The providers Patchbay ships; a connector adds its line here. */
export const builtInConnectors: ConnectorRegistry = new Map<string, Connector>(
  [
    hubspotConnector as Connector,
    msgraphConnector as Connector,
    sendgridConnector as Connector,
    githubConnector as Connector,
    openaiConnector as Connector,
    stripeConnector as Connector,
    finaleConnector as Connector,
  ].map((connector) => [connector.definition.id, connector]),
);
