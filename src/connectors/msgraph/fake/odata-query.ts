import { badRequest } from './graph-errors.js';
import { ATTACHMENT_PROPERTIES, SELECTABLE } from './message-view.js';
import { type FilterNode, FilterSyntaxError, filterProperties, parseFilter } from './odata-filter.js';

/** A request's query options, each given at most once (OData rejects repeats). */
export type QueryOptions = Map<string, string>;

export function queryOptions(url: string): QueryOptions {
  const q = url.indexOf('?');
  const options: QueryOptions = new Map();
  if (q < 0) return options;
  for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
    const name = key.startsWith('$') ? key.toLowerCase() : key;
    if (options.has(name)) {
      throw badRequest(
        `Query option '${key}' was specified more than once, but it must be specified at most once.`,
      );
    }
    options.set(name, value);
  }
  return options;
}

/** `$select` for messages, each name checked against the type (Graph's RequestBroker--ParseUri 400). */
export function selectOf(options: QueryOptions): Set<string> | undefined {
  const raw = options.get('$select');
  if (raw === undefined) return undefined;
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!SELECTABLE.has(name) && name !== 'id') throw unknownProperty(name);
  }
  return new Set(names);
}

export function unknownProperty(name: string) {
  return badRequest(
    `Could not find a property named '${name}' on type 'microsoft.graph.message'.`,
    'RequestBroker--ParseUri',
  );
}

/** `$top` between 1 and `max`; `fallback` when absent. */
export function topOf(options: QueryOptions, fallback: number, max = 1000): number {
  const raw = options.get('$top');
  if (raw === undefined) return fallback;
  const top = Number(raw);
  if (!/^\d+$/.test(raw) || top < 1) throw badRequest(`Invalid value '${raw}' for query option $top.`);
  if (top > max) {
    throw badRequest(
      `The limit of '${max}' for Top query has been exceeded. The value from the incoming request is '${raw}'.`,
    );
  }
  return top;
}

export function skipOf(options: QueryOptions): number {
  const raw = options.get('$skip');
  if (raw === undefined) return 0;
  if (!/^\d+$/.test(raw)) throw badRequest(`Invalid value '${raw}' for query option $skip.`);
  return Number(raw);
}

/** `$filter` parsed, with each property it reads checked against the message type. */
export function filterOf(options: QueryOptions, known: ReadonlySet<string>): FilterNode | undefined {
  const raw = options.get('$filter');
  if (raw === undefined) return undefined;
  let node: FilterNode;
  try {
    node = parseFilter(raw);
  } catch (err) {
    if (err instanceof FilterSyntaxError) {
      throw badRequest(`Invalid filter clause: ${err.message}`, 'BadRequest');
    }
    throw err;
  }
  for (const name of filterProperties(node)) {
    if (!known.has(name)) throw unknownProperty(name);
  }
  return node;
}

export interface Preferences {
  bodyType?: 'text' | 'html';
  maxPageSize?: number;
  immutableIds: boolean;
  /** What to echo in `Preference-Applied`. */
  applied: string[];
}

/** The `Prefer` header's Graph preferences (`outlook.body-content-type`, `odata.maxpagesize`, `IdType`). */
export function preferences(header: string | string[] | undefined): Preferences {
  const prefs: Preferences = { immutableIds: false, applied: [] };
  const values = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',');
  for (const raw of values) {
    const [name, value = ''] = raw
      .trim()
      .split('=')
      .map((s) => s.trim());
    const unquoted = value.replace(/^"|"$/g, '');
    switch (name?.toLowerCase()) {
      case 'outlook.body-content-type':
        if (/^(text|html)$/i.test(unquoted)) {
          prefs.bodyType = unquoted.toLowerCase() as 'text' | 'html';
          prefs.applied.push(`outlook.body-content-type="${prefs.bodyType}"`);
        }
        break;
      case 'odata.maxpagesize':
        if (/^\d+$/.test(unquoted) && Number(unquoted) > 0) {
          prefs.maxPageSize = Math.min(Number(unquoted), 1000);
          prefs.applied.push(`odata.maxpagesize=${prefs.maxPageSize}`);
        }
        break;
      case 'idtype':
        if (unquoted.toLowerCase() === 'immutableid') {
          prefs.immutableIds = true;
          prefs.applied.push('IdType="ImmutableId"');
        }
        break;
    }
  }
  return prefs;
}

/** `$expand` for messages: `attachments` and `singleValueExtendedProperties($filter=id eq '…')`. */
export function expandOf(options: QueryOptions): {
  attachments: boolean | Set<string>;
  extendedProperties?: (id: string) => boolean;
} {
  const raw = options.get('$expand');
  if (raw === undefined) return { attachments: false };
  let attachments: boolean | Set<string> = false;
  let extendedProperties: ((id: string) => boolean) | undefined;
  for (const part of splitTopLevel(raw)) {
    const match = /^(\w+)(?:\((.*)\))?$/s.exec(part.trim());
    const name = match?.[1]?.toLowerCase();
    if (name === 'attachments') {
      const select = /\$select=([^;)]*)/i.exec(match![2] ?? '')?.[1];
      attachments = select === undefined ? true : attachmentSelect(select);
    } else if (name === 'singlevalueextendedproperties') {
      const ids = [...(match![2] ?? '').matchAll(/id\s+eq\s+'((?:[^']|'')*)'/gi)].map((m) =>
        m[1]!.replace(/''/g, "'").toLowerCase(),
      );
      extendedProperties = ids.length === 0 ? () => true : (id) => ids.includes(id.toLowerCase());
    } else {
      throw badRequest(
        `Parsing OData Select and Expand failed: Could not find a property named '${part.trim()}' on type 'microsoft.graph.message'.`,
      );
    }
  }
  return extendedProperties ? { attachments, extendedProperties } : { attachments };
}

/** `$select` over attachments, each name checked against the type. */
export function attachmentSelect(raw: string): Set<string> {
  const names = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!ATTACHMENT_PROPERTIES.has(name)) {
      throw badRequest(
        `Could not find a property named '${name}' on type 'microsoft.graph.attachment'.`,
        'RequestBroker--ParseUri',
      );
    }
  }
  return new Set(names);
}

function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++;
    else if (text[i] === ')') depth--;
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts.filter((p) => p.trim() !== '');
}
