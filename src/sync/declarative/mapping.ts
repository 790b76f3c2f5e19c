import type { MappingConfig } from '../../core/config/syncs.js';
import { valueAt } from '../define-sync.js';

type Rec = Record<string, unknown>;

/**
 * The config file's mapping from a provider's record to the model, as one function: renames (a dot
 * path to a field), omissions, enum maps, coercions, then computed fields (`"{first} {last}"`). A value
 * that does not coerce throws, naming the field: the record is quarantined with it.
 */
export function compileMapping(mapping: MappingConfig): (raw: unknown) => Rec {
  const renames = Object.entries(mapping.rename ?? {});
  const omit = mapping.omit ?? [];
  const enums = Object.entries(mapping.enums ?? {});
  const coercions = Object.entries(mapping.coerce ?? {});
  const computed = Object.entries(mapping.computed ?? {}).map(
    ([field, template]) => [field, compileTemplate(template)] as const,
  );
  return (raw) => {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw new Error('a record must be an object');
    const out: Rec = { ...(raw as Rec) };
    for (const [from, to] of renames) {
      const value = valueAt(raw, from);
      delete out[from.split('.')[0]!];
      if (value !== undefined) out[to] = value;
    }
    for (const field of omit) delete out[field];
    for (const [field, map] of enums) {
      const value = out[field];
      if (value !== undefined && value !== null && Object.hasOwn(map, String(value)))
        out[field] = map[String(value)];
    }
    for (const [field, type] of coercions) {
      if (out[field] === undefined || out[field] === null || out[field] === '') {
        if (out[field] === '') out[field] = null;
        continue;
      }
      out[field] = coerce(out[field], type, field);
    }
    for (const [field, render] of computed) out[field] = render(out);
    return out;
  };
}

function coerce(value: unknown, type: NonNullable<MappingConfig['coerce']>[string], field: string): unknown {
  const fail = () => {
    throw new Error(`${field}: ${JSON.stringify(value)} is not a ${type}`);
  };
  switch (type) {
    case 'string':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
    case 'number':
    case 'integer': {
      const n =
        typeof value === 'number'
          ? value
          : typeof value === 'string' && value.trim() !== ''
            ? Number(value)
            : Number.NaN;
      if (!Number.isFinite(n) || (type === 'integer' && !Number.isInteger(n))) return fail();
      return n;
    }
    case 'boolean': {
      if (typeof value === 'boolean') return value;
      const text = String(value).toLowerCase();
      if (['true', '1', 'yes', 'y'].includes(text)) return true;
      if (['false', '0', 'no', 'n'].includes(text)) return false;
      return fail();
    }
    case 'date':
    case 'timestamp': {
      const ms =
        typeof value === 'number'
          ? value < 1e11
            ? value * 1000
            : value
          : /^\d+$/.test(String(value))
            ? Number(value) < 1e11
              ? Number(value) * 1000
              : Number(value)
            : Date.parse(String(value));
      if (!Number.isFinite(ms)) return fail();
      return type === 'date' ? new Date(ms).toISOString() : ms;
    }
  }
}

function compileTemplate(template: string): (record: Rec) => string {
  const parts = template.split(/(\{[^{}]+\})/).filter((p) => p !== '');
  return (record) =>
    parts
      .map((part) => {
        if (!part.startsWith('{') || !part.endsWith('}')) return part;
        const value = valueAt(record, part.slice(1, -1));
        return value === undefined || value === null ? '' : String(value);
      })
      .join('')
      .trim();
}
