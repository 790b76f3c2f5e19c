import { createHmac, randomUUID } from 'node:crypto';
import { request } from 'undici';
import type { FakeProviderClock } from '../../fake-kit/index.js';
import type { FakeDelivery, FakeHook } from './model.js';
import type { GitHubFakeState } from './state.js';

/** GitHub does not send a payload over 25 MB at all. */
const MAX_PAYLOAD = 25 << 20;

export interface HookEvent {
  event: string;
  action: string | null;
  /** The JSON payload, exactly as it will be signed and sent. */
  payload: string;
}

/**
 * Sends hook deliveries the way GitHub does: once, with no automatic retry; a receiver that does not
 * answer 2xx within the timeout (10 s on github.com) is recorded as failed and stays failed until
 * someone redelivers it. A redelivery keeps the `X-GitHub-Delivery` GUID.
 * https://docs.github.com/webhooks/using-webhooks/handling-failed-webhook-deliveries
 */
export class HookSender {
  private readonly pending = new Set<Promise<void>>();
  private readonly aborts = new AbortController();

  constructor(
    private readonly state: () => GitHubFakeState,
    private readonly clock: FakeProviderClock,
    private readonly timeoutMs: number,
  ) {}

  send(hook: FakeHook, event: HookEvent, options: { guid?: string; redelivery?: boolean } = {}): void {
    if (Buffer.byteLength(event.payload) > MAX_PAYLOAD) return;
    const job = this.deliver(hook, event, options.guid ?? randomUUID(), options.redelivery ?? false);
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  /** Resolves once every delivery under way has been made (or has failed). */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  close(): void {
    this.aborts.abort();
  }

  private async deliver(hook: FakeHook, event: HookEvent, guid: string, redelivery: boolean): Promise<void> {
    const form = hook.config.content_type === 'form';
    const body = form ? `payload=${encodeURIComponent(event.payload)}` : event.payload;
    const headers: Record<string, string> = {
      Accept: '*/*',
      'Content-Type': form ? 'application/x-www-form-urlencoded' : 'application/json',
      'User-Agent': 'GitHub-Hookshot/fake0001',
      'X-GitHub-Delivery': guid,
      'X-GitHub-Event': event.event,
      'X-GitHub-Hook-ID': String(hook.id),
      'X-GitHub-Hook-Installation-Target-ID': String(hook.repoId),
      'X-GitHub-Hook-Installation-Target-Type': 'repository',
    };
    if (hook.config.secret) {
      headers['X-Hub-Signature'] =
        `sha1=${createHmac('sha1', hook.config.secret).update(body).digest('hex')}`;
      headers['X-Hub-Signature-256'] =
        `sha256=${createHmac('sha256', hook.config.secret).update(body).digest('hex')}`;
    }
    const delivery: FakeDelivery = {
      id: this.state().id(),
      guid,
      hookId: hook.id,
      repoId: hook.repoId,
      deliveredAt: this.clock.now(),
      redelivery,
      duration: 0,
      status: 'pending',
      statusCode: 0,
      event: event.event,
      action: event.action,
      request: { headers, payload: event.payload },
      response: { headers: {}, payload: null },
    };
    const started = performance.now();
    try {
      const answer = await request(hook.config.url, {
        method: 'POST',
        headers,
        body,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal: AbortSignal.any([this.aborts.signal, AbortSignal.timeout(this.timeoutMs)]),
      });
      const text = await answer.body.text();
      delivery.statusCode = answer.statusCode;
      delivery.status =
        answer.statusCode >= 200 && answer.statusCode < 300
          ? 'OK'
          : `Invalid HTTP Response: ${answer.statusCode}`;
      delivery.response = { headers: flatten(answer.headers), payload: text.slice(0, 4096) };
    } catch (error) {
      delivery.status = isTimeout(error) ? 'timed out' : 'failed to connect to host';
    }
    delivery.duration = Math.round(performance.now() - started) / 1000;
    hook.lastResponse = {
      code: delivery.statusCode || null,
      status: delivery.status === 'OK' ? 'active' : 'failed',
      message: delivery.status,
    };
    this.state().deliveries.push(delivery);
  }
}

function isTimeout(error: unknown): boolean {
  const name = (error as { name?: string; code?: string } | undefined)?.name;
  const code = (error as { code?: string } | undefined)?.code;
  return name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
}

function flatten(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers))
    if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
