/**
 * The part of OData `$filter` that mail clients use: comparisons (`eq ne gt ge lt le`) of a property path
 * with a literal (string, number, boolean, null, date-time), `and`, `or`, `not`, parentheses, and
 * `collection/any(x: …)` — enough for `receivedDateTime ge 2024-01-01T00:00:00Z`, `isRead eq false`,
 * `from/emailAddress/address eq '…'` and `singleValueExtendedProperties/any(ep: ep/id eq '…' and
 * ep/value eq '…')` (singlevaluelegacyextendedproperty-get.md).
 */
export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: CompareOp; path: string[]; value: Literal }
  | { kind: 'any'; path: string[]; variable: string; body: FilterNode };

type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';
type Literal = string | number | boolean | null | { date: number };

export class FilterSyntaxError extends Error {}

const TOKEN =
  /\s*(?:(\()|(\))|(:)|'((?:[^']|'')*)'|(\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2}))|(-?\d+(?:\.\d+)?)(?![\w-])|([A-Za-z_][\w./]*))/y;

type Token = { type: '(' | ')' | ':' | 'string' | 'date' | 'number' | 'word'; text: string };

function tokenize(input: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < input.length) {
    if (/^\s*$/.test(input.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(input);
    if (!m) throw new FilterSyntaxError(`unexpected text at position ${at}: ${input.slice(at, at + 20)}`);
    if (m[1]) tokens.push({ type: '(', text: '(' });
    else if (m[2]) tokens.push({ type: ')', text: ')' });
    else if (m[3]) tokens.push({ type: ':', text: ':' });
    else if (m[4] !== undefined) tokens.push({ type: 'string', text: m[4].replace(/''/g, "'") });
    else if (m[5]) tokens.push({ type: 'date', text: m[5] });
    else if (m[6]) tokens.push({ type: 'number', text: m[6] });
    else tokens.push({ type: 'word', text: m[7]! });
  }
  return tokens;
}

export function parseFilter(input: string): FilterNode {
  const tokens = tokenize(input);
  let i = 0;
  const peek = () => tokens[i];
  const next = () => {
    const token = tokens[i++];
    if (!token) throw new FilterSyntaxError('the filter ends too early');
    return token;
  };
  const expect = (type: Token['type']) => {
    const token = next();
    if (token.type !== type) throw new FilterSyntaxError(`expected "${type}", found "${token.text}"`);
  };
  const isWord = (token: Token | undefined, word: string) =>
    token?.type === 'word' && token.text.toLowerCase() === word;

  const orExpr = (): FilterNode => {
    let left = andExpr();
    while (isWord(peek(), 'or')) {
      i++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): FilterNode => {
    let left = unary();
    while (isWord(peek(), 'and')) {
      i++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterNode => {
    if (isWord(peek(), 'not')) {
      i++;
      return { kind: 'not', operand: unary() };
    }
    if (peek()?.type === '(') {
      i++;
      const inner = orExpr();
      expect(')');
      return inner;
    }
    const word = next();
    if (word.type !== 'word') throw new FilterSyntaxError(`expected a property, found "${word.text}"`);
    const path = word.text.split('/');
    if (path.at(-1)?.toLowerCase() === 'any' && peek()?.type === '(') {
      i++;
      const variable = next();
      if (variable.type !== 'word') throw new FilterSyntaxError('any() needs a variable name');
      expect(':');
      const body = orExpr();
      expect(')');
      return { kind: 'any', path: path.slice(0, -1), variable: variable.text, body };
    }
    const op = next();
    if (op.type !== 'word' || !['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op.text.toLowerCase())) {
      throw new FilterSyntaxError(`expected an operator after ${word.text}, found "${op.text}"`);
    }
    return { kind: 'compare', op: op.text.toLowerCase() as CompareOp, path, value: literal(next()) };
  };

  const tree = orExpr();
  if (i < tokens.length) throw new FilterSyntaxError(`unexpected "${tokens[i]!.text}"`);
  return tree;
}

function literal(token: Token): Literal {
  if (token.type === 'string') return token.text;
  if (token.type === 'number') return Number(token.text);
  if (token.type === 'date') return { date: Date.parse(token.text) };
  if (token.type === 'word') {
    const lower = token.text.toLowerCase();
    if (lower === 'true' || lower === 'false') return lower === 'true';
    if (lower === 'null') return null;
  }
  throw new FilterSyntaxError(`expected a value, found "${token.text}"`);
}

/** The first segment of every property path the filter reads (outside `any` variables). */
export function filterProperties(node: FilterNode, bound: ReadonlySet<string> = new Set()): string[] {
  switch (node.kind) {
    case 'and':
    case 'or':
      return [...filterProperties(node.left, bound), ...filterProperties(node.right, bound)];
    case 'not':
      return filterProperties(node.operand, bound);
    case 'compare':
      return bound.has(node.path[0]!) ? [] : [node.path[0]!];
    case 'any':
      return [node.path[0]!, ...filterProperties(node.body, new Set([...bound, node.variable]))];
  }
}

export function evaluate(
  node: FilterNode,
  item: Record<string, unknown>,
  scope: Record<string, unknown> = {},
): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, item, scope) && evaluate(node.right, item, scope);
    case 'or':
      return evaluate(node.left, item, scope) || evaluate(node.right, item, scope);
    case 'not':
      return !evaluate(node.operand, item, scope);
    case 'any': {
      const collection = resolve(node.path, item, scope);
      if (!Array.isArray(collection)) return false;
      return collection.some((element) => evaluate(node.body, item, { ...scope, [node.variable]: element }));
    }
    case 'compare':
      return compare(node.op, resolve(node.path, item, scope), node.value);
  }
}

function resolve(path: string[], item: Record<string, unknown>, scope: Record<string, unknown>): unknown {
  let value: unknown = path[0]! in scope ? scope[path[0]!] : caseless(item, path[0]!);
  for (const segment of path.slice(1)) {
    if (value === null || typeof value !== 'object') return undefined;
    value = caseless(value as Record<string, unknown>, segment);
  }
  return value;
}

function caseless(object: Record<string, unknown>, key: string): unknown {
  if (key in object) return object[key];
  const lower = key.toLowerCase();
  for (const [k, v] of Object.entries(object)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

function compare(op: CompareOp, actual: unknown, expected: Literal): boolean {
  let a: unknown = actual;
  let b: unknown = expected;
  if (expected !== null && typeof expected === 'object') {
    a = typeof actual === 'string' ? Date.parse(actual) : Number.NaN;
    b = expected.date;
  } else if (typeof a === 'string' && typeof b === 'string') {
    // Exchange compares strings case-insensitively.
    a = a.toLowerCase();
    b = b.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'gt':
      return (a as number) > (b as number);
    case 'ge':
      return (a as number) >= (b as number);
    case 'lt':
      return (a as number) < (b as number);
    case 'le':
      return (a as number) <= (b as number);
  }
}
