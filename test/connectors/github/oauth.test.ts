import { afterEach, describe, expect, it } from 'vitest';
import {
  DEFAULT_OAUTH_APP,
  type RunningGitHubFake,
  startGitHubFake,
} from '../../../src/connectors/github/fake/index.js';
import { githubConnector } from '../../../src/connectors/github/index.js';
import { type ConnectorSetup, connectorSetup } from './connector-setup.js';

const REDIRECT = 'http://127.0.0.1:9/oauth/callback';
let fake: RunningGitHubFake;
let setup: ConnectorSetup;
afterEach(async () => {
  await setup?.close();
  await fake?.close();
});

async function connect(clientSecret: string) {
  fake = await startGitHubFake();
  setup = await connectorSetup();
  await setup.vault.connections.create({
    id: 'gh',
    provider: 'github',
    baseUrl: fake.url,
    auth: {
      scheme: 'oauth2-authorization-code',
      clientId: DEFAULT_OAUTH_APP.clientId,
      clientSecret,
      // What the definition's OAuth defaults say for github.com, pointed at the fake.
      authorizationUrl: `${fake.url}/login/oauth/authorize`,
      tokenUrl: `${fake.url}/login/oauth/access_token`,
      clientAuth: 'client_secret_post',
      scopes: ['repo', 'admin:repo_hook'],
    },
  });
  const started = await setup.vault.authorization.start('gh', { redirectUri: REDIRECT });
  const approved = await fetch(started.url, { redirect: 'manual' });
  return new URL(approved.headers.get('location')!).searchParams;
}

describe('GitHub OAuth app through the vault', () => {
  it('authorizes in the browser flow and calls with the token it got', async () => {
    const callback = await connect(DEFAULT_OAUTH_APP.clientSecret);
    const { connection } = await setup.vault.authorization.complete(callback);
    expect(connection.status).toBe('active');
    const github = await setup.clients.api('gh', githubConnector);
    expect((await github.user()).login).toBe('octocat');
  });

  it('fails the exchange with GitHub’s own error when the client secret is wrong (GitHub answers it with 200)', async () => {
    const callback = await connect('not-the-secret');
    const error = await setup.vault.authorization.complete(callback).catch((e) => e);
    expect(error.message).toMatch(/incorrect_client_credentials/);
  });
});
