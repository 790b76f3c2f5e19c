import type { FastifyInstance } from 'fastify';
import { answerWithProgress } from '../core/api/progress-answer.js';
import { boolean, integer, object, string, time } from '../core/api/schemas.js';
import { ciphertextPrefix } from './cipher.js';
import type { VaultServices } from './open-vault.js';

const sourceSchema = object({
  kind: { type: 'string', enum: ['generated', 'env', 'file'] },
  description: string,
});

const keyListSchema = object({
  source: sourceSchema,
  keys: {
    type: 'array',
    items: object({
      id: string,
      status: { type: 'string', enum: ['primary', 'previous', 'standby', 'retired'] },
      loaded: boolean,
      values: integer,
      createdAt: time,
    }),
  },
});

const rotationSchema = object({
  keyId: string,
  retired: { type: 'array', items: string },
  reencrypted: integer,
  raced: integer,
  source: sourceSchema,
});

/** Where the keys come from, without the keys: `{ kind: 'generated', description: '…/encryption.key' }`. */
function sourceView(services: VaultServices) {
  const { source } = services.vault;
  return { kind: source.kind, description: source.description };
}

/**
 * `/api/v1/keys`: the encryption keys this store knows (ids, status, how many values each encrypts;
 * never a key) and their rotation, run by the server that holds the keys.
 */
export async function keyRoutes(app: FastifyInstance, services: VaultServices): Promise<void> {
  app.get(
    '/keys',
    {
      schema: {
        tags: ['keys'],
        summary: 'Encryption keys of the vault: id, status, whether loaded, values each one encrypts.',
        operationId: 'listKeys',
        response: { 200: keyListSchema },
      },
    },
    async () => {
      const { vault } = services;
      const columns = vault.encryptedColumns();
      const keys = [];
      for (const row of await vault.keys.all()) {
        let values = 0;
        for (const column of columns) values += await vault.keys.countWith(column, ciphertextPrefix(row.id));
        keys.push({
          id: row.id,
          status: row.status,
          loaded: vault.keyring.has(row.id),
          values,
          createdAt: new Date(row.createdAt).toISOString(),
        });
      }
      return { source: sourceView(services), keys };
    },
  );

  app.post<{ Body: { batchSize?: number; keepOldKeys?: boolean } | undefined }>(
    '/keys/rotate',
    {
      schema: {
        tags: ['keys'],
        summary:
          'Make a new key primary and re-encrypt every stored secret under it (Accept: application/x-ndjson streams progress lines).',
        operationId: 'rotateKeys',
        response: { 200: rotationSchema },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            batchSize: { type: 'integer', minimum: 1, maximum: 10000 },
            keepOldKeys: { type: 'boolean' },
          },
        },
      },
    },
    async (request, reply) =>
      answerWithProgress(request, reply, async (progress) => {
        const result = await services.rotation.rotate({
          ...(request.body?.batchSize !== undefined && { batchSize: request.body.batchSize }),
          keepOldKeys: request.body?.keepOldKeys === true,
          onProgress: (p) => progress(p.done, p.total),
        });
        return { ...result, source: sourceView(services) };
      }),
  );
}
