import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import openapiTS, { astToString } from 'openapi-typescript';
import ts from 'typescript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects } from '../helpers/databases.js';
import { openTestEngine, type TestEngine } from '../helpers/engine.js';

const TOKEN = 'openapi-test-token-0123456789';
const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

type Schema = Record<string, unknown>;
interface Operation {
  operationId?: string;
  summary?: string;
  responses?: Record<string, Schema>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, Schema>; schemas: Record<string, Schema> };
}

const run = promisify(execFile);

describe('the OpenAPI document', () => {
  let t: TestEngine;
  let doc: Document;
  const exercised = new Set<string>();
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);

  /** The operation a request reaches: its method and the path template that matches. */
  function operationFor(method: string, url: string): { key: string; op: Operation } {
    const path = url.split('?')[0]!;
    for (const [template, item] of Object.entries(doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      const op = item[method.toLowerCase()];
      if (op && pattern.test(path)) return { key: `${method} ${template}`, op };
    }
    throw new Error(`${method} ${path} is not in the document`);
  }

  function resolve(ref: Schema): Schema {
    const target = ref.$ref as string | undefined;
    if (target === undefined) return ref;
    const [, , kind, name] = target.split('/');
    return (doc.components as Record<string, Record<string, Schema>>)[kind!]![name!]!;
  }

  /** Calls the API and checks the answer against the document: a documented status, a matching body. */
  async function call(method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await t.app.inject({
      method: method as 'GET',
      url,
      headers: {
        authorization: `Bearer ${TOKEN}`,
        ...(body !== undefined && { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body !== undefined && { payload: JSON.stringify(body) }),
    });
    const { key, op } = operationFor(method, url);
    exercised.add(key);
    const documented = op.responses?.[String(response.statusCode)];
    expect(documented, `${key} answered ${response.statusCode}: ${response.body}`).toBeDefined();
    const content = (resolve(documented!).content as Record<string, { schema: Schema }> | undefined)?.[
      'application/json'
    ];
    if (content === undefined) expect(response.body, `${key} documents no body`).toBe('');
    else {
      const validate = ajv.compile(resolve(content.schema));
      const answer = response.json();
      expect(validate(answer), `${key} ${response.statusCode}: ${ajv.errorsText(validate.errors)}`).toBe(
        true,
      );
    }
    return response;
  }

  beforeAll(async () => {
    t = await openTestEngine(dialects[0]!, { server: { adminToken: TOKEN } });
    const response = await t.app.inject({
      url: '/api/v1/openapi.json',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(response.statusCode).toBe(200);
    doc = response.json();
  });
  afterAll(() => t?.close());

  it('has an operationId, a summary and a documented answer with its schema on every operation', () => {
    const problems: string[] = [];
    const ids = new Set<string>();
    for (const [path, item] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/')) problems.push(`${path} is outside the admin API`);
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const where = `${method.toUpperCase()} ${path}`;
        if (!op.operationId) problems.push(`${where} has no operationId`);
        else if (ids.has(op.operationId)) problems.push(`${where} repeats operationId ${op.operationId}`);
        else ids.add(op.operationId);
        if (!op.summary) problems.push(`${where} has no summary`);
        const success = Object.entries(op.responses ?? {}).filter(([status]) => /^2|^3/.test(status));
        if (success.length === 0) problems.push(`${where} documents no 2xx answer`);
        for (const [status, response] of success) {
          const hasBody = status !== '204' && !status.startsWith('3');
          const content = (response.content as Record<string, unknown> | undefined)?.['application/json'];
          if (hasBody && content === undefined) problems.push(`${where} ${status} has no response schema`);
        }
        if (!op.responses?.['400'] || !op.responses['401']) problems.push(`${where} lacks its error answers`);
      }
    }
    expect(problems).toEqual([]);
    // The document covers what the modules register (sanity: a module's routes did not go missing).
    expect(ids.size).toBeGreaterThanOrEqual(50);
  });

  it('is clean under redocly lint (recommended rules: 0 errors, 0 warnings)', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'patchbay-openapi-')), 'openapi.json');
    writeFileSync(file, JSON.stringify(doc));
    const { stdout } = await run(
      join(process.cwd(), 'node_modules/.bin/redocly'),
      ['lint', file, '--extends=recommended', '--format=json'],
      { env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } },
    ).catch((err: { stdout: string }) => ({ stdout: err.stdout }));
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(report.problems.map((p) => `${p.ruleId}: ${p.message}`)).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  }, 60_000);

  it('types a client (openapi-typescript) that type-checks against the answers it describes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patchbay-client-'));
    writeFileSync(join(dir, 'api.ts'), astToString(await openapiTS(doc as never)));
    writeFileSync(
      join(dir, 'client.ts'),
      `import type { components, operations, paths } from './api';
type Json<R> = R extends { content: { 'application/json': infer B } } ? B : never;
type Destination = Json<paths['/api/v1/destinations/{id}']['get']['responses'][200]>;
type Published = Json<operations['publishEvent']['responses'][201]>;
type PublishBody = NonNullable<operations['publishEvent']['requestBody']>['content']['application/json'];
type ErrorBody = components['schemas']['Error'];
export function use(d: Destination, p: Published, e: ErrorBody): string {
  const failing: string | null = d.failingSince;
  const duplicate: boolean = p.duplicate;
  const body: PublishBody = { type: 'order.created', payload: { id: 1 } };
  // @ts-expect-error the type of an event is required
  const missing: PublishBody = { payload: 1 };
  // @ts-expect-error a destination has no such field
  d.password;
  return [d.id, failing, duplicate, body.type, missing, e.error.code, e.error.requestId].join();
}
`,
    );
    const program = ts.createProgram([join(dir, 'client.ts')], {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      skipLibCheck: true,
      noUnusedLocals: false,
      types: [],
      lib: ['lib.es2022.d.ts'],
    });
    const diagnostics = ts
      .getPreEmitDiagnostics(program)
      .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    expect(diagnostics).toEqual([]);
  }, 60_000);

  it('describes what the API really answers, errors included', async () => {
    // Sources.
    const secret = `whsec_${Buffer.from('a'.repeat(32)).toString('base64')}`;
    expect(
      (
        await call('POST', '/api/v1/sources', {
          id: 'shop',
          verify: { scheme: 'standard-webhooks', secrets: [secret] },
        })
      ).statusCode,
    ).toBe(201);
    await call('GET', '/api/v1/sources');
    await call('GET', '/api/v1/sources/shop');
    await call('PATCH', '/api/v1/sources/shop', { bodyLimit: '64kb' });
    expect((await call('GET', '/api/v1/sources/nope')).statusCode).toBe(404);

    // Destinations.
    const created = await call('POST', '/api/v1/destinations', {
      id: 'hook',
      url: 'https://hooks.invalid/in',
    });
    expect(created.statusCode).toBe(201);
    expect(created.json().secret).toMatch(/^whsec_/);
    await call('GET', '/api/v1/destinations');
    await call('GET', '/api/v1/destinations/hook');
    await call('GET', '/api/v1/destinations/hook/secret');
    await call('PATCH', '/api/v1/destinations/hook', { events: ['api.order.*'], timeout: '5s' });
    await call('POST', '/api/v1/destinations/hook/disable', { reason: 'maintenance' });
    await call('POST', '/api/v1/destinations/hook/enable', {});
    await call('POST', '/api/v1/destinations/hook/recover', { since: '1h' });
    expect((await call('POST', '/api/v1/destinations', { id: 'bad' })).statusCode).toBe(400);

    // Events and deliveries.
    const published = await call('POST', '/api/v1/events', {
      type: 'order.created',
      payload: { id: 7 },
      idempotencyKey: 'k1',
    });
    expect(published.statusCode).toBe(201);
    const again = await call('POST', '/api/v1/events', { type: 'order.created', idempotencyKey: 'k1' });
    expect(again.statusCode).toBe(200);
    await call('GET', '/api/v1/events?limit=1');
    await call('GET', `/api/v1/events/${published.json().id}`);
    const deliveries = await call('GET', `/api/v1/deliveries?event=${published.json().id}`);
    const delivery = deliveries.json().data[0];
    expect(delivery).toBeDefined();
    await call('GET', `/api/v1/deliveries/${delivery.id}`);
    expect((await call('POST', `/api/v1/deliveries/${delivery.id}/replay`, {})).statusCode).toBe(202);
    expect((await call('GET', '/api/v1/deliveries?destinationId=hook')).statusCode).toBe(400);

    // Queues.
    await call('GET', '/api/v1/queues');
    await call('GET', '/api/v1/status');
    await call('GET', '/api/v1/queues/deliveries/dead');
    await call('POST', '/api/v1/queues/deliveries/dead/requeue', { ids: [] });

    // Connections.
    const connection = {
      id: 'crm',
      baseUrl: 'https://api.crm.invalid',
      auth: { scheme: 'bearer', token: 'secret-token-value' },
    };
    expect((await call('POST', '/api/v1/connections', connection)).statusCode).toBe(201);
    await call('GET', '/api/v1/connections');
    await call('GET', '/api/v1/connections/crm');
    await call('PATCH', '/api/v1/connections/crm', { metadata: { team: 'sales' } });
    expect((await call('POST', '/api/v1/connections/crm/refresh', {})).statusCode).toBe(400);
    expect((await call('GET', '/api/v1/connections/crm/authorize')).statusCode).toBe(400);
    expect((await call('GET', '/api/v1/connections/crm/subscriptions')).statusCode).toBe(200);
    expect((await call('DELETE', '/api/v1/connections/crm')).statusCode).toBe(204);

    // Keys.
    await call('GET', '/api/v1/keys');
    // The key comes from PATCHBAY_ENCRYPTION_KEY with no new key listed first: a 400 saying so.
    expect((await call('POST', '/api/v1/keys/rotate', { batchSize: 50 })).statusCode).toBe(400);
    expect((await call('POST', '/api/v1/keys/rotate', { batchSize: 0 })).statusCode).toBe(400);

    // Syncs (none configured), errors of the shared hooks.
    await call('GET', '/api/v1/syncs');
    expect((await call('GET', '/api/v1/syncs/none')).statusCode).toBe(404);
    expect(
      (await call('GET', '/api/v1/destinations', undefined, { authorization: 'Bearer wrong' })).statusCode,
    ).toBe(401);
    expect(
      (await call('GET', '/api/v1/destinations', undefined, { host: 'attacker.invalid' })).statusCode,
    ).toBe(421);
    expect(
      (await call('GET', '/api/v1/destinations', undefined, { origin: 'https://attacker.invalid' }))
        .statusCode,
    ).toBe(403);
    expect(
      (await call('POST', '/api/v1/destinations/hook/enable', 'x', { 'content-type': 'text/plain' }))
        .statusCode,
    ).toBe(415);

    // Deletes.
    expect((await call('DELETE', '/api/v1/destinations/hook')).statusCode).toBe(204);
    expect((await call('DELETE', '/api/v1/sources/shop')).statusCode).toBe(204);

    // Every operation outside syncs was called (syncs need a configured sync: test/sync covers them).
    const missed = Object.entries(doc.paths)
      .flatMap(([path, item]) => METHODS.filter((m) => item[m]).map((m) => `${m.toUpperCase()} ${path}`))
      .filter((key) => !exercised.has(key) && !key.includes('/syncs'));
    expect(missed).toEqual([]);
  });
});
