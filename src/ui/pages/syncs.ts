import type { FastifyInstance } from 'fastify';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import type { SyncRun } from '../../store/sync/sync-run-store.js';
import { readRecordCursor, recordCursor } from '../../sync/record-cursor.js';
import type { SyncStatus } from '../../sync/sync-service.js';
import { cursorField, type FormQuery, withQuery } from '../filters.js';
import { badge, count, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, type PageContext } from '../layout.js';
import { pageContext, redirectWith, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import {
  conflictsTable,
  cut,
  heldDeletes,
  quarantineTable,
  reviewActions,
  type SyncAction,
} from './sync-review.js';

/** Rows of each list on a sync's page. */
const ROWS = 20;

/**
 * The links under one of a sync page's lists: "First" back to its start, "Next" on from `next` (its
 * cursor, in the query field `name`; the other lists keep their place).
 */
function listPager(path: string, query: FormQuery, name: string, next: string | undefined): Html | false {
  if (query[name] === undefined && next === undefined) return false;
  return html`<nav class="pager" aria-label="Pages of ${name}">
${query[name] !== undefined && html`<a href="${withQuery(path, query, { [name]: undefined })}">First</a>`}
${next && html`<a href="${withQuery(path, query, { [name]: next })}" rel="next">Next ${ROWS}</a>`}
</nav>`;
}

function health(s: SyncStatus): Html {
  const tone = s.health.score >= 90 ? 'ok' : s.health.score >= 60 ? 'warn' : 'bad';
  return html`<span class="status ${tone}">${s.health.score}</span>${s.health.reasons.length > 0 && html` <span class="muted">${s.health.reasons.join('; ')}</span>`}`;
}

function runRow(r: SyncRun): Html {
  return html`<tr><td><code>${r.id}</code></td><td>${r.mode}</td><td>${r.trigger}</td><td>${badge(r.status)}</td><td class="num">${count(r.pages)}</td><td class="num">${count(r.seen)}</td><td class="num">${count(r.created)}</td><td class="num">${count(r.updated)}</td><td class="num">${count(r.deleted)}</td><td class="num">${count(r.quarantined)}</td><td>${when(r.startedAt)}</td><td>${when(r.finishedAt)}</td><td>${r.error ?? ''}</td></tr>`;
}

const RUN_HEAD = html`<thead><tr><th scope="col">Run</th><th scope="col">Mode</th><th scope="col">Trigger</th><th scope="col">Status</th><th scope="col" class="num">Pages</th><th scope="col" class="num">Seen</th><th scope="col" class="num">Created</th><th scope="col" class="num">Updated</th><th scope="col" class="num">Deleted</th><th scope="col" class="num">Quarantined</th><th scope="col">Started</th><th scope="col">Finished</th><th scope="col">Error</th></tr></thead>`;

function actions(ctx: PageContext, s: SyncStatus): Html {
  const base = `/ui/syncs/${s.id}`;
  return html`<div class="actions">
${
  s.state === 'paused'
    ? actionButton(ctx, `${base}/resume`, 'Resume')
    : html`${actionButton(ctx, `${base}/run`, 'Run now')}
${actionButton(ctx, `${base}/run`, 'Full resync', { fields: { full: 'true' }, kind: 'secondary', confirm: 'Read every record again from the source?' })}
${actionButton(ctx, `${base}/pause`, 'Pause', { kind: 'secondary' })}`
}
</div>`;
}

/** `/ui/syncs`: each sync's state and health; one sync's runs, records, quarantine and conflicts. */
export async function syncsRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const { syncs } = deps;

  app.get('/ui/syncs', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const all = await syncs.list();
    const body = html`<table><thead><tr><th scope="col">Sync</th><th scope="col">Model</th><th scope="col">Connection</th><th scope="col">Schedule</th><th scope="col">State</th><th scope="col">Health</th><th scope="col" class="num">Records</th><th scope="col">Last run</th><th scope="col">Next run</th></tr></thead><tbody>
${all.map(
  (s) =>
    html`<tr><td><a href="/ui/syncs/${s.id}">${s.id}</a></td><td>${s.model}</td><td>${s.connection ?? ''}</td><td>${s.schedule}</td><td>${badge(s.state)}</td><td>${health(s)}</td><td class="num">${count(s.records)}</td><td>${s.lastRun ? html`${badge(s.lastRun.status)} ${s.lastRun.error ?? ''}` : html`<span class="muted">never</span>`}</td><td>${when(s.nextRunAt)}</td></tr>`,
)}</tbody></table>
${all.length === 0 && html`<p class="muted">No sync yet: add them under <code>syncs:</code> in the configuration file (see docs/syncs.md).</p>`}`;
    return renderPage(reply, ctx, 'Syncs', body);
  });

  app.get<{ Params: { id: string }; Querystring: FormQuery }>('/ui/syncs/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const { id } = request.params;
    const path = `/ui/syncs/${id}`;
    const query = request.query;
    let s: SyncStatus;
    let after: { records?: { updatedAt: number; id: string }; quarantine?: string; conflicts?: string };
    try {
      s = await syncs.status(id);
      const records = readRecordCursor(cursorField(query, 'records'));
      const quarantine = cursorField(query, 'quarantine');
      const conflicts = cursorField(query, 'conflicts');
      after = {
        ...(records && { records }),
        ...(quarantine && { quarantine }),
        ...(conflicts && { conflicts }),
      };
    } catch (err) {
      if (isPatchbayError(err, 'NOT_FOUND')) {
        return renderPage(reply, ctx, 'Sync not found', html`<p>${errorMessage(err)}.</p>`, 404);
      }
      if (!isPatchbayError(err, 'INVALID_ARGUMENT')) throw err;
      ctx.problem = errorMessage(err);
      return renderPage(
        reply,
        ctx,
        `Sync ${id}`,
        html`<p><a href="${path}">The sync's first page</a></p>`,
        400,
      );
    }
    // Each list reads one more row than it shows: that row's presence is the "Next" link.
    const [runs, records, quarantine, conflicts] = await Promise.all([
      syncs.runs(id, { limit: ROWS }),
      syncs.records(id, { limit: ROWS, ...(after.records && { after: after.records }) }),
      syncs.quarantine(id, {
        status: 'open',
        limit: ROWS,
        ...(after.quarantine && { after: after.quarantine }),
      }),
      syncs.conflicts(id, {
        status: 'open',
        limit: ROWS,
        ...(after.conflicts && { after: after.conflicts }),
      }),
    ]);
    const shown = <T>(rows: T[]) => rows.slice(0, ROWS);
    const nextOf = <T>(rows: T[], key: (row: T) => string) =>
      rows.length > ROWS ? key(rows[ROWS - 1]!) : undefined;
    const body = html`<dl class="facts">
<dt>Model</dt><dd>${s.model}</dd>
<dt>Connection</dt><dd>${s.connection ? html`<a href="/ui/connections/${s.connection}">${s.connection}</a>` : html`<span class="muted">none</span>`}</dd>
<dt>Schedule</dt><dd>${s.schedule}</dd>
<dt>State</dt><dd>${badge(s.state)}${s.running && html` <span class="muted">by ${s.running.owner}</span>`}${s.fullPending && ' (full read pending)'}</dd>
<dt>Health</dt><dd>${health(s)}</dd>
<dt>Records</dt><dd>${count(s.records)}</dd>
<dt>Last success</dt><dd>${when(s.lastSuccessAt)}</dd>
<dt>Next run</dt><dd>${when(s.nextRunAt)}</dd>
<dt>Deletes held</dt><dd>${heldDeletes(ctx, s)}</dd>
<dt>Local changes</dt><dd>${count(s.pendingChanges)} pending, ${count(s.failedChanges)} failed</dd>
</dl>
${actions(ctx, s)}
<section class="job" aria-labelledby="h-runs"><h2 id="h-runs">Runs</h2>
${s.state === 'running' && s.lastRun && html`<p role="status">Running: ${count(s.lastRun.pages)} pages, ${count(s.lastRun.seen)} records seen so far. This page refreshes itself.</p>`}
${runs.length === 0 ? html`<p class="muted">No run yet.</p>` : html`<table>${RUN_HEAD}<tbody>${shown(runs).map(runRow)}</tbody></table>`}</section>
<h2 id="records">Records <span class="muted">(by last change, ${ROWS} a page)</span></h2>
${
  records.length === 0
    ? html`<p class="muted">${after.records ? 'No more records.' : 'No record stored yet.'}</p>`
    : html`<table><thead><tr><th scope="col">Id</th><th scope="col" class="num">Revision</th><th scope="col">Changed</th><th scope="col">Data</th></tr></thead><tbody>${shown(records).map((r) => html`<tr><td><code>${r.id}</code></td><td class="num">${r.revision}</td><td>${when(r.updatedAt)}</td><td><code>${cut(r.data)}</code></td></tr>`)}</tbody></table>`
}
${listPager(
  path,
  query,
  'records',
  nextOf(records, (r) => recordCursor(r.updatedAt, r.id)),
)}
<h2 id="quarantine">Quarantine <span class="muted">(${count(s.quarantineOpen)} open)</span></h2>
${quarantineTable(ctx, s, shown(quarantine))}
${listPager(
  path,
  query,
  'quarantine',
  nextOf(quarantine, (q) => q.id),
)}
<h2 id="conflicts">Conflicts <span class="muted">(${count(s.conflictsOpen)} open)</span></h2>
${conflictsTable(ctx, s, shown(conflicts))}
${listPager(
  path,
  query,
  'conflicts',
  nextOf(conflicts, (c) => c.id),
)}`;
    // A running sync's page follows it: a reload every 3 s shows the run's counts as pages commit.
    const head = s.state === 'running' ? html`<meta http-equiv="refresh" content="3">` : '';
    return renderPage(reply, ctx, `Sync ${s.id}`, body, 200, head);
  });

  const act = (path: string, run: SyncAction) =>
    app.post<{ Params: { id: string }; Body: Record<string, string> | undefined }>(
      `/ui/syncs/:id/${path}`,
      async (request, reply) => {
        const to = `/ui/syncs/${encodeURIComponent(request.params.id)}`;
        try {
          return redirectWith(reply, to, { notice: await run(request.params.id, request.body ?? {}) });
        } catch (err) {
          if (!isPatchbayError(err) || err.code === 'INTERNAL') throw err;
          return redirectWith(reply, to, { problem: errorMessage(err) });
        }
      },
    );
  act('run', async (id, form) => {
    const full = form.full === 'true';
    await syncs.request(id, { full });
    return full ? `Full resync of ${id} asked for.` : `Run of ${id} asked for: it starts shortly.`;
  });
  act('pause', async (id) => {
    await syncs.pause(id);
    return `Paused ${id}: no run starts until it is resumed.`;
  });
  act('resume', async (id) => {
    await syncs.resume(id);
    return `Resumed ${id}.`;
  });
  for (const [path, run] of reviewActions(deps)) act(path, run);
}
