import type { Connector } from '../provider.js';
import { type FinaleApi, finaleApi } from './api.js';
import { type FinaleSettings, finaleDefinition } from './definition.js';

/** Finale Inventory as a connection gets it: the definition and the typed calls. */
export const finaleConnector: Connector<FinaleSettings, FinaleApi> = {
  definition: finaleDefinition,
  api: (client, context) => finaleApi(client, { account: context.settings.account, clock: context.clock }),
};
