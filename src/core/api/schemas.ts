import { type ZodType, z } from 'zod';

/**
 * Building blocks of the admin API's response schemas. A route's `response` schemas document what it
 * answers (the OpenAPI document is made from them); the admin scope serializes with JSON.stringify, so
 * a schema never drops or coerces a field of the view the route returns (decision 0110). The OpenAPI
 * test checks real answers against these schemas.
 */
export type JsonSchema = Record<string, unknown>;

export const string = { type: 'string' } as const;
export const integer = { type: 'integer' } as const;
export const number = { type: 'number' } as const;
export const boolean = { type: 'boolean' } as const;
export const time = { type: 'string', format: 'date-time' } as const;
/** Any JSON value (a payload, a record's data). */
export const anyJson = {} as const;

/** `schema` or null. */
export function nullable(schema: JsonSchema): JsonSchema {
  if (typeof schema.type === 'string') return { ...schema, type: [schema.type, 'null'] };
  return { anyOf: [schema, { type: 'null' }] };
}

export function oneOfValues(values: readonly string[]): JsonSchema {
  return { type: 'string', enum: [...values] };
}

/** An object with these properties, all required but those named in `optional`. */
export function object(properties: Record<string, JsonSchema>, optional: readonly string[] = []): JsonSchema {
  return {
    type: 'object',
    required: Object.keys(properties).filter((name) => !optional.includes(name)),
    properties,
  };
}

/** A list answer: `{ data: [...] }`. */
export function listOf(item: JsonSchema): JsonSchema {
  return object({ data: { type: 'array', items: item } });
}

/** A page of a list: `{ data: [...], nextCursor? }`. */
export function pageOf(item: JsonSchema): JsonSchema {
  return object(
    {
      data: { type: 'array', items: item },
      nextCursor: { type: 'string', description: 'Pass as `cursor` for the next page; absent on the last.' },
    },
    ['nextCursor'],
  );
}

/** A 204's response schema: no body. */
export const noContent = { type: 'null', description: 'No content.' } as const;

/** The one error shape (core/api/error-body.ts). */
export const errorSchema = object({
  error: object({
    code: { type: 'string', description: 'A stable code, e.g. INVALID_ARGUMENT, NOT_FOUND.' },
    message: { type: 'string', description: 'What is wrong, naming the field or the object.' },
    requestId: { type: 'string', description: 'The x-request-id of the request, also in the log.' },
  }),
});

/**
 * A body checked by a zod schema inside the service (its messages name the field and never echo a
 * secret), as the JSON Schema the document shows. A route puts it in its schema as `documentedBody`
 * beside `body: { type: 'object' }`: the OpenAPI document shows it, the route does not check it twice.
 */
export function bodyFromZod(schema: ZodType, description?: string): JsonSchema {
  const { $schema: _draft, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return { ...json, ...(description && { description }) };
}

declare module 'fastify' {
  interface FastifySchema {
    /** The body as the OpenAPI document shows it, when the service validates it (see bodyFromZod). */
    documentedBody?: JsonSchema;
  }
}
