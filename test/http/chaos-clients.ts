import { afterEach, beforeEach } from 'vitest';
import { createHttpClient, type HttpClient, type HttpClientOptions } from '../../src/http/index.js';
import { type ChaosUpstream, FakeClock, startChaosUpstream } from '../../src/testing/index.js';

/**
 * For every test of the file: a fresh chaos upstream and fake clock, handed to `use`, and `client()`
 * making HTTP clients on them (the fake clock, attempt timeouts far beyond what `drive` advances, no
 * retry budget). After each test the clients it made and those given to `track` are closed, then the
 * upstream.
 */
export function chaosClients(use: (upstream: ChaosUpstream, clock: FakeClock) => void) {
  let upstream: ChaosUpstream;
  let clock: FakeClock;
  const open: { close(): Promise<void> }[] = [];
  beforeEach(async () => {
    upstream = await startChaosUpstream();
    clock = new FakeClock();
    use(upstream, clock);
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await upstream.close();
  });
  const track = <T extends { close(): Promise<void> }>(closable: T): T => {
    open.push(closable);
    return closable;
  };
  const client = (options: Partial<HttpClientOptions> = {}): HttpClient =>
    track(
      createHttpClient({
        baseUrl: upstream.url,
        allowInsecureHttp: true,
        clock,
        timeoutMs: 600_000,
        deadlineMs: 300_000,
        retry: { budget: false },
        ...options,
      }),
    );
  return { client, track };
}
