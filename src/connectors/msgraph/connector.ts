import type { Connector } from '../provider.js';
import { type MsGraphSettings, msgraphDefinition } from './definition.js';
import { MsGraphMail } from './mail-api.js';
import { msgraphMailFolders, msgraphMessages } from './sync-models.js';

/** Microsoft Graph mail as a connection gets it: the definition, the typed mail calls and the sync models. */
export const msgraphConnector: Connector<MsGraphSettings, MsGraphMail> = {
  definition: msgraphDefinition,
  api: (client, context) => new MsGraphMail(client, context),
  models: [msgraphMessages, msgraphMailFolders],
};
