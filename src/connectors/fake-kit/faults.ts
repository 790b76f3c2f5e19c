/**
 * Injected faults: `POST /_fake/faults` adds rules, matched before the provider's own routes run. A
 * rule answers with a status and body, delays, or drops the connection, for its next `times` matches.
 */
export interface FaultRule {
  /** HTTP method to match; any when absent. */
  method?: string;
  /** A path prefix (`/crm/v3/objects`) or, between slashes, a regular expression (`/\/messages\/delta/`). */
  path?: string;
  /** Answer with this status (and `body`, `headers`) instead of the provider's own answer. */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long, in ms, before answering (or before letting the request through when no `status`). */
  delayMs?: number;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /**
   * Let the provider handle the request (its effects happen), then hold its answer back this long, in
   * ms: the caller sees nothing while the provider has already acted — the window a crash between a
   * send and its answer falls into. Closing the fake releases held answers.
   */
  holdAnswerMs?: number;
  /** How many matching requests the rule applies to. Defaults to 1; 0 means until removed. */
  times?: number;
}

interface ActiveRule extends FaultRule {
  matcher: (method: string, path: string) => boolean;
  left: number;
}

export class FaultInjector {
  private rules: ActiveRule[] = [];

  add(rules: readonly FaultRule[]): void {
    for (const rule of rules) this.rules.push({ ...rule, matcher: compile(rule), left: rule.times ?? 1 });
  }

  clear(): void {
    this.rules = [];
  }

  list(): FaultRule[] {
    return this.rules.map(({ matcher: _m, left, ...rule }) => ({ ...rule, times: left }));
  }

  /** The rule that takes this request, if any (its count is spent). */
  take(method: string, path: string): FaultRule | undefined {
    const index = this.rules.findIndex((r) => r.matcher(method, path));
    if (index < 0) return undefined;
    const rule = this.rules[index]!;
    if (rule.left > 0 && --rule.left === 0) this.rules.splice(index, 1);
    return rule;
  }
}

function compile(rule: FaultRule): ActiveRule['matcher'] {
  const method = rule.method?.toUpperCase();
  const path = rule.path;
  let test: (p: string) => boolean = () => true;
  if (path && path.length > 2 && path.startsWith('/') && path.endsWith('/') && !path.endsWith('\\/')) {
    const re = new RegExp(path.slice(1, -1));
    test = (p) => re.test(p);
  } else if (path) {
    test = (p) => p.startsWith(path);
  }
  // A rule names a path as people write it (`/users/adele@contoso.test`); clients may escape it.
  const decoded = (p: string) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  };
  return (m, p) => (method === undefined || method === m) && (test(p) || test(decoded(p)));
}
