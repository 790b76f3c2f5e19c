import { createHmac, randomBytes } from 'node:crypto';
import { request } from 'undici';
import type { FakeProviderClock } from '../../fake-kit/index.js';
import type { StripeEvent, WebhookEndpoint } from './model.js';
import type { StripeFakeState } from './state.js';

export interface DeliveryAttempt {
  eventId: string;
  endpointId: string;
  attempt: number;
  /** Epoch ms on the fake's clock. */
  at: number;
  status: number | 'timeout' | 'unreachable';
}

/**
 * Sends events to the registered endpoints that enable them (`*` for all), as Stripe does: the
 * event pretty-printed (so a receiver that re-serialises it breaks the signature), signed
 * `Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "${t}.${body}")>` plus a `v0` a verifier
 * must ignore, and — unlike GitHub — retried on the fake's clock when the endpoint does not answer
 * 2xx: in a sandbox, three more times over a few hours (re-signed with a fresh `t` each time).
 * https://docs.stripe.com/webhooks
 */
export class EventSender {
  readonly attempts: DeliveryAttempt[] = [];
  private readonly pending = new Set<Promise<void>>();
  private readonly cancels = new Set<() => void>();
  private readonly aborts = new AbortController();

  constructor(
    private readonly state: () => StripeFakeState,
    private readonly clock: FakeProviderClock,
    private readonly options: { timeoutMs: number; retryDelaysMs: readonly number[] },
  ) {}

  send(event: StripeEvent): void {
    for (const endpoint of this.state().endpoints.values()) {
      if (endpoint.status !== 'enabled') continue;
      if (!endpoint.enabled_events.includes('*') && !endpoint.enabled_events.includes(event.type)) continue;
      event.pending_webhooks++;
      this.track(this.attempt(endpoint, event, 1));
    }
  }

  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  close(): void {
    for (const cancel of this.cancels) cancel();
    this.aborts.abort();
  }

  private track(job: Promise<void>): void {
    this.pending.add(job);
    void job.finally(() => this.pending.delete(job));
  }

  private async attempt(
    endpoint: WebhookEndpoint & { secret: string },
    event: StripeEvent,
    n: number,
  ): Promise<void> {
    const body = JSON.stringify(event, null, 2);
    const t = Math.floor(this.clock.now() / 1000);
    const v1 = createHmac('sha256', endpoint.secret).update(`${t}.${body}`).digest('hex');
    const v0 = createHmac('sha256', randomBytes(16)).update(`${t}.${body}`).digest('hex');
    let status: DeliveryAttempt['status'];
    try {
      const answer = await request(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'stripe-signature': `t=${t},v1=${v1},v0=${v0}`,
          accept: '*/*; q=0.5, application/xml',
        },
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        signal: AbortSignal.any([this.aborts.signal, AbortSignal.timeout(this.options.timeoutMs)]),
      });
      await answer.body.dump();
      status = answer.statusCode;
    } catch (error) {
      const name = (error as { name?: string }).name;
      status =
        name === 'TimeoutError' || /TIMEOUT/.test(String((error as { code?: string }).code))
          ? 'timeout'
          : 'unreachable';
    }
    this.attempts.push({
      eventId: event.id,
      endpointId: endpoint.id,
      attempt: n,
      at: this.clock.now(),
      status,
    });
    if (typeof status === 'number' && status >= 200 && status < 300) {
      event.pending_webhooks = Math.max(0, event.pending_webhooks - 1);
      return;
    }
    const delay = this.options.retryDelaysMs[n - 1];
    if (delay === undefined) return;
    const cancel = this.clock.at(this.clock.now() + delay, () => {
      this.cancels.delete(cancel);
      this.track(this.attempt(endpoint, event, n + 1));
    });
    this.cancels.add(cancel);
  }
}
