/** What a row of the Email Activity feed offers to a query. */
export interface ActivityRow {
  msg_id: string;
  from_email: string;
  to_email: string;
  subject: string;
  status: string;
  template_id: string;
  categories: readonly string[];
  unique_args: Readonly<Record<string, string>>;
}

export type ActivityPredicate = (row: ActivityRow) => boolean;

const FIELDS = new Set([
  'msg_id',
  'from_email',
  'to_email',
  'subject',
  'status',
  'template_id',
  'categories',
]);

/**
 * The part of the Email Activity query language the fake understands: `field="value"`, `field!="value"`,
 * `field LIKE 'prefix%'`, `field NOT LIKE …`, `unique_args['name']="value"`, `categories IN ("a")`…
 * joined with AND / OR and grouped with parentheses. Anything else is refused, as SendGrid refuses
 * a query it cannot parse. https://www.twilio.com/docs/sendgrid/for-developers/sending-email/getting-started-email-activity-api
 */
export function parseActivityQuery(text: string): ActivityPredicate {
  const tokens = tokenize(text);
  let at = 0;
  const peek = () => tokens[at];
  const next = () => {
    const token = tokens[at++];
    if (token === undefined) throw new SyntaxError('the query ends too early');
    return token;
  };
  const keyword = (word: string) => {
    if (peek()?.toUpperCase() !== word) return false;
    at++;
    return true;
  };

  const expression = (): ActivityPredicate => {
    let left = conjunction();
    while (keyword('OR')) {
      const a = left;
      const b = conjunction();
      left = (row) => a(row) || b(row);
    }
    return left;
  };
  const conjunction = (): ActivityPredicate => {
    let left = term();
    while (keyword('AND')) {
      const a = left;
      const b = term();
      left = (row) => a(row) && b(row);
    }
    return left;
  };
  const term = (): ActivityPredicate => {
    if (peek() === '(') {
      next();
      const inner = expression();
      if (next() !== ')') throw new SyntaxError('a parenthesis is not closed');
      return inner;
    }
    const field = next();
    const read = reader(field);
    const negate = keyword('NOT');
    if (keyword('LIKE')) {
      const pattern = likePattern(literal(next()));
      return (row) => read(row).some((v) => pattern.test(v)) !== negate;
    }
    if (keyword('IN')) {
      if (next() !== '(') throw new SyntaxError('IN takes a list in parentheses');
      const values: string[] = [];
      for (;;) {
        values.push(literal(next()));
        const separator = next();
        if (separator === ')') break;
        if (separator !== ',') throw new SyntaxError('IN values are separated by commas');
      }
      return (row) => read(row).some((v) => values.includes(v)) !== negate;
    }
    if (negate) throw new SyntaxError('NOT goes before LIKE or IN');
    const op = next();
    if (op !== '=' && op !== '!=') throw new SyntaxError(`unknown operator ${op}`);
    const value = literal(next());
    return op === '=' ? (row) => read(row).includes(value) : (row) => !read(row).includes(value);
  };

  const predicate = expression();
  if (at !== tokens.length) throw new SyntaxError(`unexpected ${tokens[at]}`);
  return predicate;
}

function reader(field: string): (row: ActivityRow) => readonly string[] {
  const arg = /^unique_args\['([^']+)'\]$/.exec(field);
  if (arg) {
    const name = arg[1]!;
    return (row) => (Object.hasOwn(row.unique_args, name) ? [row.unique_args[name]!] : []);
  }
  if (!FIELDS.has(field)) throw new SyntaxError(`unknown field ${field}`);
  if (field === 'categories') return (row) => row.categories;
  return (row) => [row[field as Exclude<keyof ActivityRow, 'categories' | 'unique_args'>]];
}

function literal(token: string): string {
  const quote = token[0];
  if ((quote !== '"' && quote !== "'") || token.at(-1) !== quote || token.length < 2) {
    throw new SyntaxError(`expected a quoted value, got ${token}`);
  }
  return token.slice(1, -1);
}

function likePattern(value: string): RegExp {
  const escaped = value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}

function tokenize(text: string): string[] {
  const tokens: string[] = [];
  const pattern = /\s*(unique_args\['[^']*'\]|"[^"]*"|'[^']*'|!=|=|\(|\)|,|[A-Za-z_][A-Za-z0-9_]*)/y;
  let index = 0;
  while (index < text.length) {
    if (/^\s*$/.test(text.slice(index))) break;
    pattern.lastIndex = index;
    const match = pattern.exec(text);
    if (!match)
      throw new SyntaxError(`cannot read the query at ${JSON.stringify(text.slice(index, index + 20))}`);
    tokens.push(match[1]!);
    index = pattern.lastIndex;
  }
  if (tokens.length === 0) throw new SyntaxError('the query is empty');
  return tokens;
}
