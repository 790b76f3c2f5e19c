import type { Params, ParamValue } from './form-params.js';
import { paramError } from './stripe-errors.js';

/**
 * Reads an endpoint's parameters as Stripe checks them: unknown names are refused
 * (`parameter_unknown`), required ones must be there (`parameter_missing`), numbers and booleans must
 * parse — each refusal naming the parameter.
 */
export class ParamReader {
  constructor(
    private readonly params: Params,
    allowed: readonly string[],
  ) {
    for (const name of Object.keys(params)) {
      if (name !== 'expand' && !allowed.includes(name)) {
        throw paramError(`Received unknown parameter: ${name}`, name, 'parameter_unknown');
      }
    }
  }

  has(name: string): boolean {
    return this.params[name] !== undefined;
  }

  string(name: string): string | undefined;
  string(name: string, required: true): string;
  string(name: string, required = false): string | undefined {
    const value = this.params[name];
    if (value === undefined || value === '') {
      if (required) throw paramError(`Missing required param: ${name}.`, name, 'parameter_missing');
      return undefined;
    }
    if (typeof value !== 'string')
      throw paramError(`Invalid string: ${name} must be a string`, name, 'parameter_invalid_string');
    return value;
  }

  /** An empty value (`description=`) unsets: null; absent: undefined. */
  nullableString(name: string): string | null | undefined {
    if (this.params[name] === '') return null;
    return this.string(name);
  }

  integer(
    name: string,
    options: { required?: boolean; min?: number; max?: number } = {},
  ): number | undefined {
    const text = this.string(name, options.required as true);
    if (text === undefined) return undefined;
    if (!/^-?\d+$/.test(text))
      throw paramError(`Invalid integer: ${text}`, name, 'parameter_invalid_integer');
    const n = Number(text);
    if (options.min !== undefined && n < options.min) {
      throw paramError(
        `This value must be greater than or equal to ${options.min}.`,
        name,
        'parameter_invalid_integer',
      );
    }
    if (options.max !== undefined && n > options.max) {
      throw paramError(
        `This value must be less than or equal to ${options.max}.`,
        name,
        'parameter_invalid_integer',
      );
    }
    return n;
  }

  boolean(name: string): boolean | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (text !== 'true' && text !== 'false') throw paramError(`Invalid boolean: ${text}`, name);
    return text === 'true';
  }

  oneOf<T extends string>(name: string, values: readonly T[]): T | undefined {
    const text = this.string(name);
    if (text === undefined) return undefined;
    if (!values.includes(text as T)) {
      throw paramError(
        `Invalid ${name}: must be one of ${values.join(', ')}`,
        name,
        'parameter_invalid_empty',
      );
    }
    return text as T;
  }

  /**
   * `metadata[k]=v`: strings only, at most 50 keys, keys ≤ 40 and values ≤ 500 characters; an empty
   * value deletes the key, `metadata=` clears them all. Returns the merged result.
   */
  metadata(current: Record<string, string> = {}): Record<string, string> {
    const value = this.params.metadata;
    if (value === undefined) return current;
    if (value === '') return {};
    if (typeof value !== 'object' || Array.isArray(value)) throw paramError('Invalid object', 'metadata');
    const merged = { ...current };
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw paramError(`Invalid string: metadata[${key}]`, `metadata[${key}]`);
      if (key.length > 40)
        throw paramError('Metadata keys can have a maximum length of 40 characters.', `metadata[${key}]`);
      if (v.length > 500)
        throw paramError('Metadata values can have a maximum length of 500 characters.', `metadata[${key}]`);
      if (v === '') delete merged[key];
      else merged[key] = v;
    }
    if (Object.keys(merged).length > 50)
      throw paramError('You can have at most 50 metadata keys.', 'metadata');
    return merged;
  }

  /** A `created` filter: `created=<ts>` or `created[gt|gte|lt|lte]=<ts>`, as a predicate. */
  created(): (created: number) => boolean {
    const value: ParamValue | undefined = this.params.created;
    if (value === undefined) return () => true;
    if (typeof value === 'string') {
      const at = this.integer('created')!;
      return (c) => c === at;
    }
    if (Array.isArray(value)) throw paramError('Invalid created filter', 'created');
    const bound = (op: string) => {
      const v = value[op];
      if (v === undefined) return undefined;
      if (typeof v !== 'string' || !/^\d+$/.test(v))
        throw paramError(`Invalid integer: ${String(v)}`, `created[${op}]`);
      return Number(v);
    };
    const [gt, gte, lt, lte] = ['gt', 'gte', 'lt', 'lte'].map(bound);
    for (const op of Object.keys(value)) {
      if (!['gt', 'gte', 'lt', 'lte'].includes(op))
        throw paramError(`Received unknown parameter: created[${op}]`, `created[${op}]`, 'parameter_unknown');
    }
    return (c) =>
      (gt === undefined || c > gt) &&
      (gte === undefined || c >= gte) &&
      (lt === undefined || c < lt) &&
      (lte === undefined || c <= lte);
  }

  /** `expand[0]=customer` (or `expand[]=…`): the fields to expand. */
  expand(): string[] {
    const value = this.params.expand;
    if (value === undefined) return [];
    const list = Array.isArray(value) ? value : [value];
    if (!list.every((v): v is string => typeof v === 'string')) throw paramError('Invalid array', 'expand');
    return list;
  }
}
