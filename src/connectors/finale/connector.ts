import type { Connector } from '../provider.js';
import { type FinaleApi, finaleApi } from './api.js';
import { type FinaleSettings, finaleDefinition } from './definition.js';
import { finalePurchaseOrders, finaleStock, finaleVendors } from './sync/index.js';

/** Finale Inventory as a connection gets it: the definition, the typed calls, the sync models. */
export const finaleConnector: Connector<FinaleSettings, FinaleApi> = {
  definition: finaleDefinition,
  api: (client, context) => finaleApi(client, { account: context.settings.account, clock: context.clock }),
  models: [finaleStock, finaleVendors, finalePurchaseOrders],
};
