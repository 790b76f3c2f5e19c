import { z } from 'zod';

/**
 * What a test may tune in the Graph fake (at start, or live with `POST /_fake/settings`). The defaults
 * are Graph's own figures, each cited where the behaviour is built.
 */
export const settingsSchema = z
  .object({
    /** Longest subscription lifetime for Outlook messages, in minutes (G10: 4,230; newer pages say 10,080). */
    maxExpirationMinutes: z.number().int().positive().default(4230),
    /** Concurrent requests per app and mailbox before `ApplicationThrottled` (G6: 4). */
    mailboxConcurrency: z.number().int().positive().default(4),
    /** Requests per app and mailbox in `mailboxWindowMs` before `TooManyRequests` (G6: 10,000 per 10 min). */
    mailboxRequestsPerWindow: z.number().int().positive().default(10_000),
    mailboxWindowMs: z.number().int().positive().default(600_000),
    /** Time each mailbox request holds its concurrency slot, in ms, to make concurrency observable. */
    latencyMs: z.number().int().nonnegative().default(0),
    /** Delta page size when the client sets neither `$top` nor `Prefer: odata.maxpagesize`. */
    deltaPageSize: z.number().int().positive().max(1000).default(10),
    /** Start every incremental round with an empty page carrying a nextLink, as Outlook often does (G2). */
    deltaEmptyFirstPage: z.boolean().default(true),
    /** Updated items in an incremental round carry only the properties that changed (G2). */
    deltaPartialUpdates: z.boolean().default(true),
    /** Sync states kept; older ones fall out and answer 410 (G2: Outlook tokens have no fixed lifetime). */
    deltaStateCapacity: z.number().int().positive().default(100_000),
    /** A 410 also carries `Location` with an empty `$deltatoken` (G2's other form). */
    deltaLocationOn410: z.boolean().default(false),
    /** Accept `http://` notification URLs (Graph requires https; tests on loopback may not have it). */
    allowHttpNotificationUrls: z.boolean().default(false),
    /** Accept https notification URLs whose certificate does not verify (a local self-signed Patchbay). */
    insecureNotificationTls: z.boolean().default(false),
    /** How long the validation handshake may take, in ms of real time (G8: 10 s). */
    validationTimeoutMs: z.number().int().positive().default(10_000),
    /** How long a notification POST may take before it counts as failed, in ms of real time (G8: 3 s). */
    notificationTimeoutMs: z.number().int().positive().default(3_000),
    /** How long failed notifications are retried, on the fake's clock (G8: up to 4 h). */
    notificationRetryHorizonMs: z
      .number()
      .int()
      .positive()
      .default(4 * 3_600_000),
    /**
     * Once a subscription was last authorized this long ago (fake clock), Graph wants it reauthorized:
     * it sends `reauthorizationRequired` an hour before, and pauses notifications after. Off by default.
     */
    reauthorizationIntervalMs: z.number().int().positive().nullable().default(null),
    /** Delay before a sent message shows in Sent Items, on the fake's clock. */
    sentItemsDelayMs: z.number().int().nonnegative().default(0),
  })
  .strict();

export type FakeSettings = z.infer<typeof settingsSchema>;
export type FakeSettingsInput = z.input<typeof settingsSchema>;

/** Validates settings, naming the first field that is wrong. */
export function parseSettings(input: unknown, base: Partial<FakeSettings> = {}): FakeSettings {
  const result = settingsSchema.safeParse({ ...base, ...(input as object) });
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const path = issue.path.join('.') || '(settings)';
    const message =
      issue.code === 'unrecognized_keys' ? `unknown setting ${issue.keys.join(', ')}` : issue.message;
    throw new RangeError(`${path}: ${message}`);
  }
  return result.data;
}
