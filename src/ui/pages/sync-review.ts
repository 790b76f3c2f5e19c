import { ErrorCode, PatchbayError } from '../../core/errors.js';
import type { SyncConflict } from '../../store/sync/sync-conflict-store.js';
import type { QuarantinedRecord } from '../../store/sync/sync-quarantine-store.js';
import type { ConflictChoice } from '../../sync/conflict-queue.js';
import type { SyncStatus } from '../../sync/sync-service.js';
import { count, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, csrfField, type PageContext } from '../layout.js';
import type { UiDeps } from '../ui-deps.js';

/** Characters of a record's JSON shown in a list. */
const DATA_CUT = 300;

export const cut = (text: string | null) =>
  text === null ? '' : text.length > DATA_CUT ? `${text.slice(0, DATA_CUT)}…` : text;

/** What a sync page's action answers: the notice to show, or an error it throws. */
export type SyncAction = (id: string, form: Record<string, string>) => Promise<string>;

/** The held deletes, with the two ways out of the safety valve. */
export function heldDeletes(ctx: PageContext, s: SyncStatus): Html {
  if (!s.deletesHeld) return html`none`;
  const base = `/ui/syncs/${s.id}/deletes`;
  const n = count(s.deletesHeld.count);
  return html`${n} of ${count(s.deletesHeld.live)} records, held by the safety valve
<div class="actions">${actionButton(ctx, `${base}/confirm`, 'Confirm the deletes', { kind: 'danger', confirm: `Delete ${n} records at the next run?` })}
${actionButton(ctx, `${base}/discard`, 'Keep the records', { kind: 'secondary' })}</div>`;
}

/** The open quarantine: each entry's where and why, retry or discard it, or all of them. */
export function quarantineTable(ctx: PageContext, s: SyncStatus, entries: QuarantinedRecord[]): Html {
  if (entries.length === 0) return html`<p class="muted">No record is quarantined.</p>`;
  const base = `/ui/syncs/${s.id}/quarantine`;
  const row = (q: QuarantinedRecord) =>
    html`<tr><td><code>${q.externalId ?? '?'}</code></td><td><code>${q.errorPath}</code></td><td>${q.error}</td><td class="num">${q.retries}</td><td>${when(q.createdAt)}</td><td>${actionButton(ctx, `${base}/retry`, 'Retry', { fields: { ids: q.id } })} ${actionButton(ctx, `${base}/discard`, 'Discard', { fields: { ids: q.id }, kind: 'secondary', confirm: `Discard the quarantined record ${q.externalId ?? q.id}?` })}</td></tr>`;
  return html`<div class="actions">${actionButton(ctx, `${base}/retry`, 'Retry all open', { fields: { all: 'true' } })}
${actionButton(ctx, `${base}/discard`, 'Discard all open', { fields: { all: 'true' }, kind: 'secondary', confirm: `Discard all ${count(s.quarantineOpen)} quarantined records?` })}</div>
<table><thead><tr><th scope="col">Record</th><th scope="col">Where</th><th scope="col">Why</th><th scope="col" class="num">Retries</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead><tbody>${entries.map(row)}</tbody></table>`;
}

/** The open conflicts: both versions, keep one, or resolve with a merged record. */
export function conflictsTable(ctx: PageContext, s: SyncStatus, conflicts: SyncConflict[]): Html {
  if (conflicts.length === 0) return html`<p class="muted">No open conflict.</p>`;
  const action = `/ui/syncs/${s.id}/conflicts/resolve`;
  const row = (c: SyncConflict) => {
    const take = (resolution: 'local' | 'source', label: string) =>
      actionButton(ctx, action, label, {
        fields: { conflict: c.id, resolution },
        ...(resolution === 'source' && { kind: 'secondary' as const }),
      });
    return html`<tr><td><code>${c.externalId}</code></td><td><code>${cut(c.localData)}</code></td><td><code>${cut(c.sourceData)}</code></td><td>${when(c.createdAt)}</td><td>${take('local', 'Keep local')} ${take('source', 'Keep source')}
<details><summary>Merge…</summary><form method="post" action="${action}">${csrfField(ctx)}<input type="hidden" name="conflict" value="${c.id}"><label for="merge-${c.id}">The record to keep (JSON)</label><textarea id="merge-${c.id}" name="data" rows="6" cols="40">${c.sourceData ?? c.localData ?? '{}'}</textarea><button type="submit">Resolve with this record</button></form></details></td></tr>`;
  };
  return html`<table><thead><tr><th scope="col">Record</th><th scope="col">Local</th><th scope="col">Source</th><th scope="col">Since</th><th scope="col">Action</th></tr></thead><tbody>${conflicts.map(row)}</tbody></table>`;
}

/** The entries a form names: `all=true`, or one entry's id. */
function selection(form: Record<string, string>): readonly string[] | 'all' {
  if (form.all === 'true') return 'all';
  const id = form.ids?.trim();
  if (id) return [id];
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'name the quarantined record, or all of them');
}

/** What the merge form sent: a JSON object, or an error naming what is wrong with it. */
function mergedRecord(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `the merged record is not JSON: ${(err as Error).message}`,
    );
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'the merged record must be a JSON object');
  }
  return value as Record<string, unknown>;
}

/** Keep one side (`resolution`), or the merged record the form's `data` holds. */
function conflictChoice(form: Record<string, string>): ConflictChoice {
  if (form.data !== undefined) return { data: mergedRecord(form.data) };
  if (form.resolution === 'local' || form.resolution === 'source') return form.resolution;
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'resolution must be local or source');
}

/** The review actions (path under `/ui/syncs/:id/`, and what each does), for the page's `act`. */
export function reviewActions(deps: UiDeps): [string, SyncAction][] {
  const { syncs } = deps;
  return [
    [
      'quarantine/retry',
      async (id, form) => {
        const r = await syncs.retryQuarantine(id, selection(form));
        const failing = r.failing[0];
        return `Retried ${count(r.stored.length + r.failing.length + r.superseded.length)}: ${count(r.stored.length)} stored, ${count(r.failing.length)} still failing${failing ? ` (${failing.errorPath}: ${failing.error})` : ''}, ${count(r.superseded.length)} replaced by a newer version.`;
      },
    ],
    [
      'quarantine/discard',
      async (id, form) => {
        const gone = await syncs.discardQuarantine(id, selection(form));
        return `Discarded ${count(gone.length)} quarantined ${gone.length === 1 ? 'record' : 'records'}.`;
      },
    ],
    [
      'conflicts/resolve',
      async (id, form) => {
        const conflict = form.conflict?.trim();
        if (!conflict) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'name the conflict to resolve');
        const settled = await syncs.resolveConflict(id, conflict, conflictChoice(form));
        return `Resolved the conflict on ${settled.externalId} (${settled.resolution}); the next run carries it out.`;
      },
    ],
    [
      'deletes/confirm',
      async (id) => {
        await syncs.confirmDeletes(id);
        return `Confirmed: the next run of ${id} deletes the held records.`;
      },
    ],
    [
      'deletes/discard',
      async (id) => {
        await syncs.discardDeletes(id);
        return `Dropped the held deletes of ${id}; the records stay.`;
      },
    ],
  ];
}
