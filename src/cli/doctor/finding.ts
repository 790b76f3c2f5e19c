/** One red flag `doctor` raises: what is wrong, where, and how to mend it. */
export interface Finding {
  /** Stable name of the check (`inline-credential`, `breaker-off`…), for `--json` readers. */
  check: string;
  /** `error` makes `doctor` exit non-zero; a `warning` is worth a look. */
  severity: 'error' | 'warning';
  /** Where: a config path (`connections[0].auth.token`) or an object (`destination "app" (API)`). */
  subject: string;
  problem: string;
  fix: string;
}
