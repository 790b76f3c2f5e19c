/**
 * Stripe's v1 parameters: `application/x-www-form-urlencoded` with brackets for nesting —
 * `metadata[order]=42`, `expand[0]=customer` (or `expand[]=customer`), `items[0][price]=…` — the same
 * encoding in a GET's query string. Values stay strings (each endpoint coerces what it expects);
 * an empty value means "unset" (`description=`).
 */
export type Params = { [key: string]: ParamValue };
export type ParamValue = string | Params | ParamValue[];

export class ParamsError extends Error {}

export function parseParams(text: string): Params {
  const root: Params = {};
  if (text === '') return root;
  for (const [rawKey, value] of new URLSearchParams(text)) {
    const path = keyPath(rawKey);
    assign(root, path, value, rawKey);
  }
  return normalise(root) as Params;
}

/** `a[b][0]` → `['a', 'b', '0']`; `a[]` → `['a', '']`. */
function keyPath(key: string): string[] {
  const match = /^([^[\]]+)((?:\[[^[\]]*\])*)$/.exec(key);
  if (!match) throw new ParamsError(`Invalid parameter name: ${key}`);
  const rest = [...match[2]!.matchAll(/\[([^[\]]*)\]/g)].map((m) => m[1]!);
  return [match[1]!, ...rest];
}

function assign(target: Params, path: string[], value: string, rawKey: string): void {
  let node: Params = target;
  for (let i = 0; i < path.length - 1; i++) {
    let segment = path[i]!;
    if (segment === '') segment = String(Object.keys(node).length);
    const existing = node[segment];
    if (existing === undefined) node[segment] = {};
    else if (typeof existing === 'string')
      throw new ParamsError(`Invalid parameter: ${rawKey} mixes a value and nested keys`);
    node = node[segment] as Params;
  }
  let last = path[path.length - 1]!;
  if (last === '') last = String(Object.keys(node).length);
  if (typeof node[last] === 'object')
    throw new ParamsError(`Invalid parameter: ${rawKey} mixes a value and nested keys`);
  node[last] = value;
}

/** Objects whose keys are all 0, 1, 2… become arrays (in index order). */
function normalise(value: ParamValue): ParamValue {
  if (typeof value === 'string' || Array.isArray(value)) return value;
  const keys = Object.keys(value);
  const entries = keys.map((k) => [k, normalise(value[k]!)] as const);
  if (keys.length > 0 && keys.every((k) => /^\d+$/.test(k))) {
    return entries.sort((a, b) => Number(a[0]) - Number(b[0])).map(([, v]) => v);
  }
  return Object.fromEntries(entries);
}

/** The parameters as canonical text: key-sorted, so equal parameters compare equal (idempotency). */
export function canonical(params: ParamValue): string {
  if (typeof params === 'string') return JSON.stringify(params);
  if (Array.isArray(params)) return `[${params.map(canonical).join(',')}]`;
  return `{${Object.keys(params)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(params[k]!)}`)
    .join(',')}}`;
}
