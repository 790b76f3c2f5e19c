import { errorMessage } from '../core/errors.js';
import type { SyncDefinition, SyncRecord } from './define-sync.js';
import type { SyncContext } from './fetch-context.js';
import type { SyncPorts } from './ports.js';

/** Figures per group (a facility, a status) and measure (`records`, `onHand`): `{ Main: { onHand: 40 } }`. */
export type IntegrityTotals = Record<string, Record<string, number>>;

/** What a model's integrity check counted on each side. */
export interface IntegrityFigures {
  local: IntegrityTotals;
  source: IntegrityTotals;
  /** Ids of records whose values differ, when the model compared them one by one. */
  records?: readonly string[];
}

/**
 * A model's check after each run: aggregates of the local store (`local`, every live record) and of
 * the source, read now. The engine compares them and keeps the report with the run.
 */
export type IntegrityCheck<R = SyncRecord> = (
  ctx: SyncContext,
  local: AsyncIterable<R>,
) => Promise<IntegrityFigures>;

export interface IntegrityDifference {
  group: string;
  measure: string;
  local: number;
  source: number;
}

/** Stored in the run's report under `integrity`. */
export interface IntegrityReport {
  /** True when every figure is equal on both sides (and no record differs). */
  equal: boolean;
  /** Figures compared (groups × measures of either side). */
  compared: number;
  /** Every figure that differs, at most 100. */
  differences: IntegrityDifference[];
  /** Records that differ: their count and the first 100 ids. */
  records: { count: number; ids: string[] };
  /** The check itself failed (the source did not answer): nothing was compared. */
  error?: string;
}

const SAMPLE = 100;
const PAGE = 1000;

/** Compares two sides' totals; a group or measure missing on one side counts as 0 there. */
export function compareTotals(figures: IntegrityFigures): IntegrityReport {
  const differences: IntegrityDifference[] = [];
  let compared = 0;
  const groups = new Set([...Object.keys(figures.local), ...Object.keys(figures.source)]);
  let differing = 0;
  for (const group of [...groups].sort()) {
    const local = figures.local[group] ?? {};
    const source = figures.source[group] ?? {};
    for (const measure of [...new Set([...Object.keys(local), ...Object.keys(source)])].sort()) {
      compared++;
      const l = local[measure] ?? 0;
      const s = source[measure] ?? 0;
      if (l === s) continue;
      differing++;
      if (differences.length < SAMPLE) differences.push({ group, measure, local: l, source: s });
    }
  }
  const ids = figures.records ?? [];
  return {
    equal: differing === 0 && ids.length === 0,
    compared,
    differences,
    records: { count: ids.length, ids: ids.slice(0, SAMPLE) },
  };
}

/**
 * Runs a definition's integrity check (under the run's lease, after its read and push), logs what it
 * found (a difference at warn) and counts it. A check that fails does not fail the run: its report says
 * why (`error`), as do the log and the metric (`outcome="failed"`).
 */
export async function checkIntegrity(
  ports: SyncPorts,
  definition: SyncDefinition,
  ctx: SyncContext,
): Promise<IntegrityReport | undefined> {
  const check = definition.integrity;
  if (!check) return undefined;
  const syncId = definition.id;
  let report: IntegrityReport;
  try {
    report = compareTotals(await check(ctx, localRecords(ports, syncId)));
  } catch (err) {
    ctx.signal.throwIfAborted();
    report = {
      equal: false,
      compared: 0,
      differences: [],
      records: { count: 0, ids: [] },
      error: errorMessage(err),
    };
  }
  const outcome = report.error !== undefined ? 'failed' : report.equal ? 'equal' : 'different';
  ports.metrics?.integrity.inc({ sync: syncId, outcome });
  if (outcome === 'equal') {
    ports.logger.info(
      { sync: syncId, compared: report.compared },
      `sync ${syncId}: integrity check: both sides equal`,
    );
  } else {
    ports.logger.warn(
      { sync: syncId, integrity: report },
      `sync ${syncId}: integrity check ${outcome === 'failed' ? `failed: ${report.error}` : `found ${describe(report)}`}`,
    );
  }
  return report;
}

/** One line for logs and health: `2 figures differ (Main onHand: local 40, source 43), 1 record`. */
export function describe(report: IntegrityReport): string {
  if (report.error !== undefined) return `no comparison: ${report.error}`;
  const parts: string[] = [];
  if (report.differences.length > 0) {
    const first = report.differences[0]!;
    parts.push(
      `${report.differences.length} figure${report.differences.length === 1 ? '' : 's'} differ (${first.group} ${first.measure}: local ${first.local}, source ${first.source}${report.differences.length > 1 ? ', …' : ''})`,
    );
  }
  if (report.records.count > 0)
    parts.push(
      `${report.records.count} record${report.records.count === 1 ? '' : 's'} differ (${report.records.ids.slice(0, 5).join(', ')}${report.records.count > 5 ? ', …' : ''})`,
    );
  return parts.join('; ') || 'no difference';
}

/** Every live record of a sync, a page at a time. */
async function* localRecords(ports: SyncPorts, syncId: string): AsyncGenerator<SyncRecord> {
  let after: { updatedAt: number; id: string } | undefined;
  for (;;) {
    const page = await ports.stores.records.list(syncId, { limit: PAGE, ...(after && { after }) });
    for (const record of page.slice(0, PAGE)) yield JSON.parse(record.data) as SyncRecord;
    if (page.length <= PAGE) return;
    const last = page[PAGE - 1]!;
    after = { updatedAt: last.updatedAt, id: last.id };
  }
}
