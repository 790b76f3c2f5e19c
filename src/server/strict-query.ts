import type { RouteOptions } from 'fastify';

const NO_PARAMETERS = { type: 'object', additionalProperties: false, properties: {} } as const;

/**
 * An `onRoute` hook for the admin API: a query parameter no route declares is refused (400, naming it)
 * rather than ignored — `?destinationId=` for `?destination=` once returned every delivery. Routes
 * declaring a query schema get `additionalProperties: false` unless they say otherwise; routes
 * declaring none accept no parameter.
 */
export function strictQuery(route: RouteOptions): void {
  route.schema ??= {};
  const schema = route.schema;
  const query = schema.querystring as Record<string, unknown> | undefined;
  if (query === undefined) schema.querystring = NO_PARAMETERS;
  else if (query.type === 'object' && !('additionalProperties' in query)) {
    schema.querystring = { ...query, additionalProperties: false };
  }
}
