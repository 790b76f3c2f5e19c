import type { z } from 'zod';
import type { HttpRequest } from '../../../http/http-types.js';
import { ownerPageSchema, propertiesSchema, propertySchema } from '../schemas.js';

/** A property to create: the name and type are required; the rest has HubSpot's defaults. */
export interface PropertyInput {
  name: string;
  /** Defaults to `string`. */
  type?: 'string' | 'number' | 'date' | 'datetime' | 'enumeration' | 'bool';
  /** Defaults to `text` (or `number`, `date`, `booleancheckbox`, `select` for those types). */
  fieldType?: string;
  /** Defaults to the name. */
  label?: string;
  /** Defaults to the type's information group (`contactinformation`). */
  groupName?: string;
  description?: string;
  hasUniqueValue?: boolean;
  options?: readonly { label: string; value: string }[];
}

const FIELD_TYPES: Record<string, string> = {
  string: 'text',
  number: 'number',
  date: 'date',
  datetime: 'date',
  bool: 'booleancheckbox',
  enumeration: 'select',
};

export function propertiesRequest(type: string): HttpRequest<z.output<typeof propertiesSchema>> {
  return { path: `/crm/v3/properties/${encodeURIComponent(type)}`, schema: propertiesSchema };
}

export function createPropertyRequest(
  type: string,
  input: PropertyInput,
  group: string,
): HttpRequest<z.output<typeof propertySchema>> {
  const kind = input.type ?? 'string';
  return {
    method: 'POST',
    path: `/crm/v3/properties/${encodeURIComponent(type)}`,
    body: {
      name: input.name,
      label: input.label ?? input.name,
      type: kind,
      fieldType: input.fieldType ?? FIELD_TYPES[kind] ?? 'text',
      groupName: input.groupName ?? group,
      ...(input.description !== undefined && { description: input.description }),
      ...(input.hasUniqueValue !== undefined && { hasUniqueValue: input.hasUniqueValue }),
      ...(input.options && { options: input.options.map((o, i) => ({ ...o, displayOrder: i })) }),
    },
    schema: propertySchema,
  };
}

export function ownersPageRequest(after?: string): HttpRequest<z.output<typeof ownerPageSchema>> {
  return { path: '/crm/v3/owners/', query: { limit: 500, after }, schema: ownerPageSchema };
}
