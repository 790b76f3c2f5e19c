import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints how many tests ran against PostgreSQL and Redis, so a CI log shows those suites were executed
 * and not silently skipped.
 */
export default class DialectReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const counts: Record<string, { passed: number; failed: number; skipped: number }> = {
      postgres: { passed: 0, failed: 0, skipped: 0 },
      redis: { passed: 0, failed: 0, skipped: 0 },
    };
    for (const module of testModules) {
      for (const test of module.children.allTests()) {
        const name = test.fullName.toLowerCase();
        const state = test.result().state;
        for (const [kind, count] of Object.entries(counts)) {
          if (!name.includes(kind)) continue;
          if (state === 'passed') count.passed++;
          else if (state === 'failed') count.failed++;
          else count.skipped++;
        }
      }
    }
    for (const [kind, c] of Object.entries(counts)) {
      process.stdout.write(`${kind} suites: ${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped\n`);
    }
  }
}
