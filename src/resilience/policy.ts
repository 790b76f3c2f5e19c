/**
 * What every policy hands to the function it runs. Policies nest (`pipeline(retry, breaker, timeout)`),
 * and the context flows inward: the retry policy sets `attempt`, the timeout narrows `signal`.
 */
export interface PolicyContext {
  /** Aborts when the caller aborts or an enclosing timeout fires. */
  readonly signal: AbortSignal;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Epoch ms after which no more work should start (Infinity when there is none). */
  readonly deadline: number;
}

export interface ExecuteOptions {
  signal?: AbortSignal;
  attempt?: number;
  deadline?: number;
}

export interface Policy {
  execute<T>(
    fn: (context: PolicyContext) => Promise<T> | T,
    options?: ExecuteOptions | AbortSignal,
  ): Promise<T>;
}

export function toExecuteOptions(options: ExecuteOptions | AbortSignal | undefined): ExecuteOptions {
  if (options === undefined) return {};
  if (options instanceof AbortSignal) return { signal: options };
  return options;
}
