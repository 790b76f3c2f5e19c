import { afterEach, describe, expect, it } from 'vitest';
import * as patchbay from '../../src/index.js';
import type { RunningMsGraphFake } from '../../src/testing/index.js';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';
import { graphConnection } from './msgraph/connection.js';
import { startFake } from './msgraph/helpers.js';

/**
 * The package entry holds what a user needs to use a connector from code: the engine's connections as
 * typed clients (`engine.connectors.api(id, connector)`) and every built-in connector, its API class and
 * sync models, imported from 'patchbay' alone. (package.json's "." export is dist/index.js, built from
 * src/index.ts.)
 */
let fake: RunningMsGraphFake | undefined;
let t: TestEngine | undefined;
afterEach(async () => {
  await t?.close();
  await fake?.close();
});

describe("connectors from the package entry ('patchbay')", () => {
  it('exports every built-in connector, under the id its registry knows it by', () => {
    const byExport = {
      finale: patchbay.finaleConnector,
      github: patchbay.githubConnector,
      hubspot: patchbay.hubspotConnector,
      msgraph: patchbay.msgraphConnector,
      openai: patchbay.openaiConnector,
      sendgrid: patchbay.sendgridConnector,
      stripe: patchbay.stripeConnector,
    };
    const builtIn = [...patchbay.builtInConnectors.keys()].sort();
    expect(Object.keys(byExport).sort()).toEqual(builtIn);
    for (const [id, connector] of Object.entries(byExport)) {
      expect(patchbay.builtInConnectors.get(id)).toBe(connector);
    }
    expect(patchbay.msgraphConnector.models).toEqual([patchbay.msgraphMessages, patchbay.msgraphMailFolders]);
    expect(patchbay.finaleConnector.models).toEqual([
      patchbay.finaleStock,
      patchbay.finaleVendors,
      patchbay.finalePurchaseOrders,
    ]);
    expect(typeof patchbay.MsGraphSubscriptions).toBe('function');
  });

  it("gives a config file's Graph connection its typed mail calls through engine.connectors", async () => {
    fake = await startFake({ https: false });
    t = await openTestEngine(dialects[0]!, {
      connections: [graphConnection(fake) as never],
      vault: { allowInsecureLoopback: true },
    });
    const mail = await t.engine.connectors.api('mail', patchbay.msgraphConnector);
    expect(mail).toBeInstanceOf(patchbay.MsGraphMail);
    const inbox = await mail.getFolder('adele@contoso.test', 'inbox');
    expect(inbox.displayName).toBe('Inbox');
    expect(await t.engine.connectors.check('mail')).toMatchObject({ status: 200 });
  });
});
