import { z } from 'zod';
import type { FetchContext, SyncContext } from '../../../sync/fetch-context.js';
import type { IntegrityFigures } from '../../../sync/integrity.js';
import type { SyncPage } from '../../../sync/page.js';
import type { LocalChange, PushOutcome } from '../../../sync/push.js';
import { defineSyncModel } from '../../../sync/sync-model.js';
import type { FinalePartyGroup } from '../schemas.js';
import {
  apiFor,
  type FinaleCheckpoint,
  failure,
  finaleMillis,
  lookbackOption,
  pages,
  refused,
} from './finale-context.js';

/** A vendor: a Finale party group with the SUPPLIER role (`roles` sorted). */
export const vendorRecordSchema = z.object({
  partyId: z.string(),
  partyUrl: z.string(),
  groupName: z.string().nullable(),
  statusId: z.string().nullable(),
  roles: z.array(z.string()),
  lastUpdatedDate: z.string().nullable(),
});
export type VendorRecord = z.output<typeof vendorRecordSchema>;

const options = z.strictObject({ lookback: lookbackOption });
export type VendorOptions = z.output<typeof options>;

const isVendor = (p: FinalePartyGroup) =>
  p.partyId !== 'PRIMARY' && (p.roleTypeIdList ?? []).includes('SUPPLIER');

function vendorRecord(p: FinalePartyGroup): VendorRecord {
  return {
    partyId: p.partyId,
    partyUrl: p.partyUrl,
    groupName: p.groupName,
    statusId: p.statusId,
    roles: [...(p.roleTypeIdList ?? [])].sort(),
    lastUpdatedDate: p.lastUpdatedDate ?? null,
  };
}

/**
 * `finale.vendors`: party groups with the SUPPLIER role, both ways.
 * - Reads: the whole `partygroup` list on a full read; the `lastUpdatedDate` feed since the watermark
 *   (less `lookback`) on an incremental one, where a party group that lost the SUPPLIER role is a delete.
 * - Pushes: `groupName`, `statusId` and `roles` by a POST to the party's URL. Finale chooses a party's
 *   id and deletes none, so a new local vendor and a local delete are refused, saying so (disable a
 *   vendor with `statusId: PARTY_DISABLED`, or drop its SUPPLIER role).
 * - Integrity: vendors per status on both sides, and the vendors that differ.
 */
export const finaleVendors = defineSyncModel({
  name: 'finale.vendors',
  description:
    'Finale vendors (party groups with the SUPPLIER role), incremental by lastUpdatedDate, bidirectional',
  options,
  define: (o: VendorOptions) => ({
    key: 'partyId',
    schema: vendorRecordSchema,
    volatile: ['lastUpdatedDate'],
    modifiedAt: (r: VendorRecord) => finaleMillis(r.lastUpdatedDate),
    fetch: (ctx: FetchContext<FinaleCheckpoint>) => readVendors(ctx, o),
    push: (ctx: SyncContext, changes: readonly LocalChange<VendorRecord>[]) => pushVendors(ctx, changes),
    integrity: async (ctx: SyncContext, local: AsyncIterable<VendorRecord>): Promise<IntegrityFigures> =>
      compareByStatus(
        local,
        (await apiFor(ctx).partyGroups.list()).filter(isVendor).map(vendorRecord),
        (r) => r.partyId,
        (r) => [r.groupName, r.statusId, r.roles],
      ),
  }),
});

async function* readVendors(
  ctx: FetchContext<FinaleCheckpoint>,
  o: VendorOptions,
): AsyncGenerator<SyncPage<VendorRecord>> {
  const api = apiFor(ctx);
  const checkpoint = { since: ctx.startedAt };
  const full = ctx.mode === 'full' || ctx.checkpoint === undefined;
  const groups = await api.partyGroups.list(
    full ? {} : { updatedSince: Math.max(0, ctx.checkpoint!.since - o.lookback) },
  );
  const vendors = groups.filter(isVendor).map(vendorRecord);
  const deleted = full ? [] : groups.filter((g) => !isVendor(g)).map((g) => g.partyId);
  let first = true;
  for (const records of pages(vendors)) {
    yield { records, ...(first && { deleted }), checkpoint };
    first = false;
  }
  if (first) yield { records: [], deleted, checkpoint };
}

async function pushVendors(
  ctx: SyncContext,
  changes: readonly LocalChange<VendorRecord>[],
): Promise<PushOutcome<VendorRecord>[]> {
  const api = apiFor(ctx);
  const outcomes: PushOutcome<VendorRecord>[] = [];
  for (const change of changes) {
    const { base, data } = change;
    if (data === null) {
      outcomes.push(
        refused(
          change.id,
          'Finale deletes no party groups: write statusId PARTY_DISABLED, or drop the SUPPLIER role',
        ),
      );
      continue;
    }
    if (!base) {
      outcomes.push(
        refused(
          change.id,
          'a new vendor is created in Finale, which chooses its partyId; the next read brings it',
        ),
      );
      continue;
    }
    const update: Record<string, unknown> = {};
    if (data.groupName !== base.groupName) update.groupName = data.groupName;
    if (data.statusId !== base.statusId) update.statusId = data.statusId;
    if (JSON.stringify([...data.roles].sort()) !== JSON.stringify(base.roles))
      update.roleTypeIdList = data.roles;
    if (Object.keys(update).length === 0) {
      outcomes.push({ id: change.id, ok: true });
      continue;
    }
    try {
      const answer = await api.partyGroups.update(base.partyUrl, update);
      outcomes.push({ id: change.id, ok: true, record: vendorRecord(answer) });
    } catch (error) {
      ctx.signal.throwIfAborted();
      outcomes.push(failure(change.id, error));
    }
  }
  return outcomes;
}

/**
 * Counts per `statusId` on both sides, and the ids whose compared values differ or that one side
 * lacks (vendors, purchase orders).
 */
export async function compareByStatus<R extends { statusId: string | null }>(
  local: AsyncIterable<R>,
  source: readonly R[],
  idOf: (r: R) => string,
  valuesOf: (r: R) => unknown,
): Promise<IntegrityFigures> {
  const figures: IntegrityFigures & { records: string[] } = { local: {}, source: {}, records: [] };
  const count = (side: IntegrityFigures['local'], r: R) => {
    const status = r.statusId ?? '(none)';
    side[status] = { records: (side[status]?.records ?? 0) + 1 };
  };
  const there = new Map(source.map((r) => [idOf(r), JSON.stringify(valuesOf(r))]));
  const seen = new Set<string>();
  for await (const record of local) {
    const id = idOf(record);
    seen.add(id);
    count(figures.local, record);
    if (there.get(id) !== JSON.stringify(valuesOf(record))) figures.records.push(id);
  }
  for (const record of source) {
    count(figures.source, record);
    if (!seen.has(idOf(record))) figures.records.push(idOf(record));
  }
  return figures;
}
