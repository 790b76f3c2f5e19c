import type { Connector } from '../provider.js';
import { type MsGraphSettings, msgraphDefinition } from './definition.js';
import { MsGraphMail } from './mail-api.js';

/** Microsoft Graph mail as a connection gets it: the definition and the typed mail calls. */
export const msgraphConnector: Connector<MsGraphSettings, MsGraphMail> = {
  definition: msgraphDefinition,
  api: (client, context) => new MsGraphMail(client, context),
};
