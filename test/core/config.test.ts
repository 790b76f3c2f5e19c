import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/core/config/index.js';

function dirWith(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'patchbay-config-'));
  writeFileSync(join(dir, name), content);
  return dir;
}

async function problemsOf(promise: Promise<unknown>): Promise<string[]> {
  const err = await promise.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(ConfigError);
  return (err as ConfigError).problems;
}

describe('configuration', () => {
  it('runs with defaults when there is no file', async () => {
    const { config, file } = await loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'pb-')), env: {} });
    expect(file).toBeUndefined();
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 8080, bodyLimit: 1024 * 1024 });
    // Node's listen backlog of 511 let a burst of silent connections past the server unseen (security.md).
    expect(config.server.limits).toMatchObject({ listenBacklog: 4096, inflightBodyLimit: 64 * 1024 * 1024 });
    expect(config.database.sqliteSynchronous).toBe('FULL');
    expect(config.sources).toEqual([]);
  });

  it('lists every problem with its path, including an unknown scheme with the accepted ones', async () => {
    const cwd = dirWith(
      'patchbay.config.yaml',
      `
server: { port: "eighty" , prot: 1 }
sources:
  - id: gh
    verify: { scheme: github, secrets: ["\${GH_SECRET}"] }
  - id: crm
    verify: { scheme: hubspot-v3, secrets: [x] }
  - id: third
    verify: { scheme: githb, secrets: [x] }
  - id: gh
    verify: { scheme: none }
delivery: { retrySchedule: [5s, soon] }
`,
    );
    const problems = await problemsOf(loadConfig({ cwd, env: {} }));
    expect(problems).toEqual(
      expect.arrayContaining([
        'sources[0].verify.secrets[0]: environment variable GH_SECRET is not set',
        expect.stringMatching(/^server\.port: /),
        'server.prot: unknown key (check the spelling; see docs/configuration.md)',
        'sources[1].verify.publicUrl: scheme "hubspot-v3" signs the URL: set publicUrl',
        expect.stringMatching(
          /^sources\[2\]\.verify\.scheme: unknown scheme "githb"; expected one of "standard-webhooks", "github"/,
        ),
        'sources[3].verify.insecure: scheme "none" accepts unsigned requests: set insecure: true to confirm',
        expect.stringMatching(/^delivery\.retrySchedule\[1\]: retrySchedule entry must be a duration/),
      ]),
    );
    for (const p of problems) expect(p).not.toMatch(/\n|at .*\.ts/);
  });

  const withUnsetSecrets = `
server: { adminToken: "\${ADMIN_TOKEN}" }
sources:
  - id: gh
    verify: { scheme: github, secrets: ["\${GH_SECRET}"] }
  - id: lab
    verify: { scheme: none, insecure: true }
destinations:
  - { id: app, url: "https://app.example.com/hooks", secrets: ["\${APP_SECRET}"] }
  - { id: other, url: "https://other.example.com/hooks", secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"] }
`;

  it('names an unset variable once, in plain words, not again as a too-short or missing field', async () => {
    const problems = await problemsOf(
      loadConfig({ cwd: dirWith('patchbay.config.yaml', withUnsetSecrets), env: {} }),
    );
    expect(problems).toEqual([
      'server.adminToken: environment variable ADMIN_TOKEN is not set',
      'sources[0].verify.secrets[0]: environment variable GH_SECRET is not set',
      'destinations[0].secrets[0]: environment variable APP_SECRET is not set',
    ]);
  });

  it('leaves out, for commands that only read the store, what uses an unset variable, and says what', async () => {
    const { config, leftOut } = await loadConfig({
      cwd: dirWith('patchbay.config.yaml', withUnsetSecrets),
      env: {},
      unsetVariables: 'leave-out',
    });
    expect(config.sources.map((s) => s.id)).toEqual(['lab']);
    expect(config.destinations.map((d) => d.id)).toEqual(['other']);
    expect(config.server.adminToken).toBeUndefined();
    expect(leftOut).toEqual([
      'server.adminToken (ADMIN_TOKEN is not set)',
      'sources[0] "gh" (GH_SECRET is not set)',
      'destinations[0] "app" (APP_SECRET is not set)',
    ]);
  });

  it('refuses a configured destination without a signing secret, naming the field', async () => {
    const problems = await problemsOf(
      loadConfig({
        cwd: dirWith(
          'patchbay.config.yaml',
          'destinations:\n  - { id: app, url: "https://app.example.com/hooks" }\n',
        ),
        env: {},
      }),
    );
    expect(problems).toEqual([
      expect.stringMatching(
        /^destinations\[0\]\.secrets: destination "app" needs at least one signing secret/,
      ),
    ]);
  });

  it('interpolates ${ENV} references and lets environment variables override the file', async () => {
    const cwd = dirWith(
      'patchbay.config.json',
      JSON.stringify({
        server: { port: 9000 },
        sources: [{ id: 'gh', verify: { scheme: 'github', secrets: ['${GH_SECRET}', '${OLD:-fallback}'] } }],
      }),
    );
    const { config } = await loadConfig({
      cwd,
      env: { GH_SECRET: 's3cret', PATCHBAY_PORT: '9100', PATCHBAY_DATABASE_URL: 'sqlite:/tmp/x.db' },
    });
    expect(config.sources[0]?.verify.secrets).toEqual(['s3cret', 'fallback']);
    expect(config.server.port).toBe(9100);
    expect(config.database.url).toBe('sqlite:/tmp/x.db');
  });

  it('keeps a destination breaker turned off in a YAML file (false, not the default)', async () => {
    const cwd = dirWith(
      'patchbay.config.yaml',
      'destinations:\n  - id: app\n    url: https://app.example.com/hooks\n    secrets: ["${SECRET}"]\n    breaker: false\n',
    );
    const { config } = await loadConfig({ cwd, env: { SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw' } });
    expect(config.destinations[0]).toMatchObject({ id: 'app', breaker: false });
  });

  it('reports a bad PATCHBAY_PORT and a file that is not an object', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'pb-'));
    expect(await problemsOf(loadConfig({ cwd, env: { PATCHBAY_PORT: 'abc' } }))).toEqual([
      'PATCHBAY_PORT: must be a port number (0–65535), got "abc"',
    ]);
    const list = dirWith('patchbay.config.yaml', '- a\n- b\n');
    expect(await problemsOf(loadConfig({ cwd: list, env: {} }))).toEqual([
      '(root): the config file must hold an object (key: value pairs)',
    ]);
    const broken = dirWith('patchbay.config.yaml', 'server: { port: 1\n');
    expect((await problemsOf(loadConfig({ cwd: broken, env: {} })))[0]).toMatch(
      /^cannot read .*patchbay\.config\.yaml: /,
    );
  });

  it('reads PATCHBAY_CONFIG and says when it is missing', async () => {
    const cwd = dirWith('custom.yaml', 'server: { port: 7000 }');
    expect((await loadConfig({ cwd, env: { PATCHBAY_CONFIG: 'custom.yaml' } })).config.server.port).toBe(
      7000,
    );
    expect((await problemsOf(loadConfig({ cwd, env: { PATCHBAY_CONFIG: 'nope.yaml' } })))[0]).toMatch(
      /does not exist/,
    );
  });
});
