import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ErrorCode } from '../../src/core/errors.js';
import type { SyncService } from '../../src/sync/sync-service.js';
import { dialects } from '../helpers/databases.js';
import { type SyncHarness, serviceHarness } from './helpers.js';
import { MemorySource, type SourceRecord } from './memory-source.js';

const strict = z.object({
  id: z.string(),
  name: z.string(),
  updatedAt: z.number(),
  email: z.string().email(),
});

describe('quarantine', () => {
  let h: SyncHarness & { service: SyncService };
  let source: MemorySource;

  beforeEach(async () => {
    h = await serviceHarness(dialects[0]!);
    source = new MemorySource();
    for (let i = 0; i < 10; i++)
      source.put(`p${i}`, { email: i % 4 === 0 ? `P${i} AT example.com` : `p${i}@example.com` });
  });
  afterEach(async () => h?.cleanup());

  it('keeps invalid records aside with their path and raw data, and the run goes on', async () => {
    await h.service.define(source.sync({ schema: strict as never }));
    await h.service.start({ schedule: false });
    const outcome = await h.service.runNow('people');
    expect(outcome).toMatchObject({ status: 'succeeded', counts: { seen: 10, created: 7, quarantined: 3 } });
    const entries = await h.service.quarantine('people', { status: 'open', limit: 50 });
    expect(entries.map((e) => e.externalId).sort()).toEqual(['p0', 'p4', 'p8']);
    expect(entries[0]).toMatchObject({ errorPath: 'email', status: 'open' });
    expect(entries[0]!.error).toMatch(/^email: /);
    expect(JSON.parse(entries[0]!.raw)).toMatchObject({ id: 'p0', email: 'P0 AT example.com' });
    const status = await h.service.status('people');
    expect(status.quarantineOpen).toBe(3);
    expect(status.health.score).toBeLessThan(100);
  });

  it('stores quarantined records on retry once the mapping is fixed', async () => {
    await h.service.define(source.sync({ schema: strict as never }));
    await h.service.start({ schedule: false });
    await h.service.runNow('people');
    const still = await h.service.retryQuarantine('people', 'all');
    expect(still).toMatchObject({ stored: [], superseded: [] });
    expect(still.failing).toHaveLength(3);

    // The fix: a transform that repairs the provider's odd addresses.
    await h.service.define(
      source.sync({
        schema: strict as never,
        transform: (raw: SourceRecord) => ({
          ...raw,
          email: String(raw.email).replace(' AT ', '@').toLowerCase(),
        }),
      }),
    );
    const fixed = await h.service.retryQuarantine('people', 'all');
    expect(fixed.stored).toHaveLength(3);
    expect((await h.stores.records.get('people', 'p4'))!.data).toContain('"email":"p4@example.com"');
    expect(await h.service.quarantine('people', { status: 'open', limit: 50 })).toEqual([]);
    const created = (await h.events('people')).filter((e) => e.type === 'people.record.created');
    expect(created).toHaveLength(10);
  });

  it('discards entries, and a newer valid version supersedes an open one', async () => {
    await h.service.define(source.sync({ schema: strict as never }));
    await h.service.start({ schedule: false });
    await h.service.runNow('people');
    const [first] = await h.service.quarantine('people', { status: 'open', limit: 1 });
    expect(await h.service.discardQuarantine('people', [first!.id])).toEqual([first!.id]);
    await expect(h.service.retryQuarantine('people', [first!.id])).rejects.toMatchObject({
      code: ErrorCode.CONFLICT,
    });
    source.put('p4', { email: 'p4@example.com' });
    await h.service.runNow('people');
    const open = await h.service.quarantine('people', { status: 'open', limit: 50 });
    expect(open.map((e) => e.externalId)).toEqual(['p8']);
  });

  it('does not delete a record whose new version is quarantined, in a full read', async () => {
    await h.service.define(source.sync({ schema: strict as never }));
    await h.service.start({ schedule: false });
    await h.service.runNow('people');
    source.put('p1', { email: 'broken' });
    await h.service.runNow('people', { mode: 'full' });
    expect(await h.stores.records.get('people', 'p1')).toMatchObject({ deletedAt: null });
  });

  it('fails the run on a page that is not a page, writing nothing of it', async () => {
    await h.service.define(
      source.sync({
        async *fetch() {
          yield { records: [{ id: 'a', name: 'A', updatedAt: 1 }], checkpoint: { since: 1 } };
          yield { records: 'not a list' } as never;
        },
      }),
    );
    await h.service.start({ schedule: false });
    const outcome = await h.service.runNow('people');
    expect(outcome).toMatchObject({ status: 'failed', counts: { pages: 1 } });
    expect(outcome.status !== 'busy' && outcome.error?.code).toBe(ErrorCode.RESPONSE_INVALID);
    expect(outcome.status !== 'busy' && outcome.error?.message).toMatch(/instead of a page/);
    expect((await h.stores.state.require('people')).checkpoint).toEqual({ since: 1 });
  });
});
