import { Agent, fetch } from 'undici';
import type { FakeKit } from '../../fake-kit/index.js';

export interface SenderSettings {
  notificationTimeoutMs: number;
  notificationRetryHorizonMs: number;
  validationTimeoutMs: number;
  insecureNotificationTls: boolean;
}

/** One POST of notifications to one URL, as the log at `GET /_fake/notifications` shows it. */
export interface DeliveryRecord {
  url: string;
  kind: 'change' | 'lifecycle';
  subscriptionIds: string[];
  count: number;
  attempts: number;
  lastStatus: number | null;
  lastError: string | null;
  state: 'pending' | 'delivered' | 'dropped';
  firstAttemptAt: string;
}

/** Waits between attempts after a failure, on the fake's clock; the last one repeats. */
const RETRY_DELAYS_MS = [30_000, 60_000, 120_000, 240_000, 480_000, 900_000, 1_800_000];
const LOG_SIZE = 1000;

/**
 * Posts notifications and validation requests. A notification needs a 2xx within 3 s (G8); otherwise it
 * is retried on the fake's clock — so a test advancing time sees the retries — for up to 4 h after the
 * first attempt, then dropped (`onDropped`, which sends `missed` lifecycle events).
 */
export class NotificationSender {
  private readonly log: DeliveryRecord[] = [];
  private agent: Agent | undefined;
  private agentInsecure = false;

  constructor(
    private readonly kit: FakeKit,
    private readonly settings: () => SenderSettings,
    private readonly onDropped: (record: DeliveryRecord, payload: unknown) => void,
  ) {}

  send(
    url: string,
    kind: DeliveryRecord['kind'],
    subscriptionIds: string[],
    payload: { value: unknown[] },
  ): void {
    const record: DeliveryRecord = {
      url,
      kind,
      subscriptionIds,
      count: payload.value.length,
      attempts: 0,
      lastStatus: null,
      lastError: null,
      state: 'pending',
      firstAttemptAt: new Date(this.kit.clock.now()).toISOString(),
    };
    this.log.push(record);
    if (this.log.length > LOG_SIZE) this.log.shift();
    void this.attempt(record, JSON.stringify(payload), this.kit.clock.now(), payload);
  }

  /** The validation handshake (G8): 200, `text/plain`, the decoded token, within 10 s. */
  async validate(url: string, token: string): Promise<boolean> {
    const target = `${url}${url.includes('?') ? '&' : '?'}validationToken=${encodeURIComponent(token)}`;
    try {
      const response = await fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: '',
        signal: AbortSignal.timeout(this.settings().validationTimeoutMs),
        dispatcher: this.dispatcher(),
      });
      const text = await response.text();
      this.kit.count(`validations:${response.status}`);
      return (
        response.status === 200 &&
        /^text\/plain/i.test(response.headers.get('content-type') ?? '') &&
        text === token
      );
    } catch {
      this.kit.count('validations:failed');
      return false;
    }
  }

  deliveries(): DeliveryRecord[] {
    return [...this.log];
  }

  reset(): void {
    this.log.length = 0;
  }

  async close(): Promise<void> {
    await this.agent?.close();
    this.agent = undefined;
  }

  private async attempt(
    record: DeliveryRecord,
    body: string,
    firstAt: number,
    payload: unknown,
  ): Promise<void> {
    record.attempts++;
    try {
      const response = await fetch(record.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8' },
        body,
        signal: AbortSignal.timeout(this.settings().notificationTimeoutMs),
        dispatcher: this.dispatcher(),
      });
      await response.arrayBuffer();
      record.lastStatus = response.status;
      record.lastError = null;
      if (response.status >= 200 && response.status < 300) {
        record.state = 'delivered';
        this.kit.count(`notifications:${record.kind}:delivered`, record.count);
        return;
      }
    } catch (err) {
      record.lastStatus = null;
      record.lastError =
        (err as Error).name === 'TimeoutError' ? 'no answer within the timeout' : (err as Error).message;
    }
    this.kit.count(`notifications:${record.kind}:failed-attempts`);
    const delay = RETRY_DELAYS_MS[Math.min(record.attempts - 1, RETRY_DELAYS_MS.length - 1)]!;
    const at = this.kit.clock.now() + delay;
    if (at - firstAt > this.settings().notificationRetryHorizonMs) {
      record.state = 'dropped';
      this.kit.count(`notifications:${record.kind}:dropped`, record.count);
      this.onDropped(record, payload);
      return;
    }
    this.kit.clock.at(at, () => void this.attempt(record, body, firstAt, payload));
  }

  private dispatcher(): Agent {
    const insecure = this.settings().insecureNotificationTls;
    if (!this.agent || this.agentInsecure !== insecure) {
      void this.agent?.close();
      this.agent = new Agent({ connect: { rejectUnauthorized: !insecure } });
      this.agentInsecure = insecure;
    }
    return this.agent;
  }
}
