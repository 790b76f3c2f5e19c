import type { FastifyInstance } from 'fastify';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import { idFloor } from '../../core/ids.js';
import type { DeliveryBrowseQuery } from '../../store/delivery-store.js';
import {
  cursorField,
  type FormQuery,
  field,
  lastEventId,
  oneOf,
  statusRange,
  timeField,
} from '../filters.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, csrfField, type PageContext } from '../layout.js';
import { PAGE_SIZE, pager, SEARCH_WINDOW, tailControl } from '../listing.js';
import { TAIL_BATCH } from '../live-tail.js';
import { pageContext, redirectWith, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { deliveryRow } from './delivery-row.js';

const STATUSES = ['pending', 'succeeded', 'failed'] as const;
/** The fields of the deliveries filter (a bulk job carries them along). */
export const DELIVERY_FILTER_FIELDS = ['destination', 'status', 'http', 'since', 'until'] as const;

/** The deliveries filter of a form (or a bulk job's saved filter), checked; errors name the field. */
export function deliveryFilter(query: FormQuery, now: number): Omit<DeliveryBrowseQuery, 'limit' | 'window'> {
  const since = timeField(query, 'since', now);
  const until = timeField(query, 'until', now);
  const destinationId = field(query, 'destination', 64);
  const status = oneOf(query, 'status', STATUSES);
  const httpStatus = statusRange(query, 'http');
  return {
    ...(destinationId !== undefined && { destinationId }),
    ...(status !== undefined && { status }),
    ...(httpStatus !== undefined && { httpStatus }),
    // The ids narrow what is read; the rows' own times decide (ids can hold a later time than the row).
    ...(since !== undefined && { since, floor: idFloor('dlv', since) }),
    ...(until !== undefined && { until, ceiling: idFloor('dlv', until) }),
  };
}

function filterForm(query: FormQuery, destinations: readonly string[]): Html {
  const selected = (a: string | undefined, b: string) => (a === b ? html` selected` : '');
  return html`<form class="filters" method="get" action="/ui/deliveries" role="search" aria-label="Filter deliveries">
<label for="f-destination">Destination<select id="f-destination" name="destination"><option value="">any</option>
${destinations.map((d) => html`<option value="${d}"${selected(query.destination, d)}>${d}</option>`)}</select></label>
<label for="f-status">Status<select id="f-status" name="status"><option value="">any</option>
${STATUSES.map((s) => html`<option value="${s}"${selected(query.status, s)}>${s}</option>`)}</select></label>
<label for="f-http">HTTP status<input id="f-http" name="http" value="${query.http ?? ''}" placeholder="503, 5xx, 400-499" size="10"></label>
<label for="f-since">Since<input id="f-since" name="since" value="${query.since ?? ''}" placeholder="2h or 2026-03-01T10:00" size="18"></label>
<label for="f-until">Until<input id="f-until" name="until" value="${query.until ?? ''}" placeholder="UTC" size="18"></label>
<button type="submit">Filter</button> <a href="/ui/deliveries">Clear</a>
</form>`;
}

/** Replay or retry every delivery the filter matches, not just this page: a background job. */
function bulkForm(ctx: PageContext, query: FormQuery): Html {
  const fields = DELIVERY_FILTER_FIELDS.map(
    (name) => html`<input type="hidden" name="${name}" value="${query[name] ?? ''}">`,
  );
  return html`<div class="actions">
<form method="post" action="/ui/jobs" data-confirm="Replay every delivery this filter matches?">${csrfField(ctx)}${fields}<input type="hidden" name="action" value="replay"><button type="submit" class="secondary">Replay all matching</button></form>
<form method="post" action="/ui/jobs" data-confirm="Retry every failed delivery this filter matches?">${csrfField(ctx)}${fields}<input type="hidden" name="action" value="retry"><button type="submit" class="secondary">Retry failed matching</button></form>
</div>`;
}

/** `/ui/deliveries` and `/ui/deliveries/:id`: the list with filters, one delivery's attempts, replay. */
export async function deliveriesRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  app.get<{ Querystring: FormQuery }>('/ui/deliveries', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const query = request.query;
    const destinations = (await deps.delivery.destinations.list()).map((d) => d.id);
    let list: Html;
    let tail: Html | false = false;
    let status = 200;
    try {
      const before = cursorField(query, 'before');
      const page = await deps.delivery.browse({
        ...deliveryFilter(query, deps.clock.now()),
        ...(before !== undefined && { before }),
        limit: PAGE_SIZE,
        window: SEARCH_WINDOW,
      });
      list = html`<table><caption class="muted">Newest first</caption><thead><tr><th scope="col">Delivery</th><th scope="col">Destination</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">HTTP</th><th scope="col">Last error</th><th scope="col">Created</th></tr></thead>
<tbody id="delivery-rows">${page.rows.map(deliveryRow)}</tbody></table>
${page.rows.length === 0 && html`<p class="muted">No delivery matches.</p>`}
${pager('/ui/deliveries', query, page)}`;
      tail = tailControl('/ui/deliveries/live', query, page.rows[0]?.id, 'delivery-rows');
    } catch (err) {
      if (!isPatchbayError(err) || err.code !== 'INVALID_ARGUMENT') throw err;
      ctx.problem = errorMessage(err);
      list = html``;
      status = 400;
    }
    const body = html`${filterForm(query, destinations)}
${status === 200 && bulkForm(ctx, query)}
${tail}
${list}`;
    return renderPage(reply, ctx, 'Deliveries', body, status);
  });

  app.get<{ Querystring: FormQuery }>('/ui/deliveries/live', async (request, reply) => {
    const filter = deliveryFilter(request.query, deps.clock.now());
    const after = cursorField({ after: lastEventId(request.headers) ?? request.query.after }, 'after');
    // A tail shows new deliveries as they are made; a change of status shows on the delivery's page.
    await deps.tails.serve(request, reply, after, {
      prefix: 'dlv',
      newer: async (floor) =>
        (await deps.delivery.browse({ ...filter, floor, limit: TAIL_BATCH, window: 10_000 })).rows,
      row: deliveryRow,
    });
  });

  app.get<{ Params: { id: string } }>('/ui/deliveries/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const delivery = await deps.delivery.get(request.params.id);
    if (!delivery)
      return renderPage(
        reply,
        ctx,
        'Delivery not found',
        html`<p>No delivery ${request.params.id}.</p>`,
        404,
      );
    const [attempts, event] = await Promise.all([
      deps.delivery.attempts(delivery.id),
      deps.events.get(delivery.eventId),
    ]);
    const body = html`<dl class="facts">
<dt>Status</dt><dd>${badge(delivery.status)}</dd>
<dt>Destination</dt><dd><a href="/ui/destinations/${delivery.destinationId}">${delivery.destinationId}</a></dd>
<dt>Event</dt><dd><a href="/ui/events/${delivery.eventId}">${delivery.eventId}</a>${event && html` <span class="muted">${event.source}.${event.type}</span>`}</dd>
<dt>Attempts</dt><dd>${delivery.attempts}</dd>
<dt>Next attempt</dt><dd>${when(delivery.nextAttemptAt)}</dd>
<dt>Last error</dt><dd>${delivery.lastError ?? html`<span class="muted">—</span>`}</dd>
<dt>Created</dt><dd>${when(delivery.createdAt)}</dd>
<dt>Succeeded</dt><dd>${when(delivery.succeededAt)}</dd>
</dl>
<div class="actions">${actionButton(ctx, `/ui/deliveries/${delivery.id}/replay`, 'Replay now')}</div>
<h2>Attempts</h2>
${
  attempts.length === 0
    ? html`<p class="muted">No attempt yet.</p>`
    : html`<ol class="timeline" reversed>${[...attempts].reverse().map(
        (
          a,
        ) => html`<li id="attempt-${a.attempt}"><h3>Attempt ${a.attempt} ${badge(a.outcome)} <span class="muted">${a.trigger}</span></h3>
<dl class="facts"><dt>Started</dt><dd>${when(a.startedAt)}</dd><dt>Took</dt><dd>${a.durationMs} ms</dd>
<dt>Request</dt><dd><code>POST ${a.url}</code></dd>
<dt>Response</dt><dd>${a.statusCode === null ? html`<span class="muted">none</span>` : html`<code>HTTP ${a.statusCode}</code>`}${a.errorCode && html` <code>${a.errorCode}</code> ${a.errorMessage}`}</dd></dl>
<details><summary>Request body (the event)</summary><pre>${event ? event.body.toString('utf8') : '(event pruned)'}</pre></details>
<details><summary>Response headers and body</summary><pre>${a.responseHeaders ? JSON.stringify(a.responseHeaders, null, 2) : '(none)'}</pre><pre>${a.responseBody ?? '(empty)'}</pre></details>
</li>`,
      )}</ol>`
}`;
    return renderPage(reply, ctx, `Delivery ${delivery.id}`, body);
  });

  app.post<{ Params: { id: string } }>('/ui/deliveries/:id/replay', async (request, reply) => {
    const to = `/ui/deliveries/${encodeURIComponent(request.params.id)}`;
    try {
      await deps.delivery.replay(request.params.id);
      return redirectWith(reply, to, { notice: 'Replay queued: a new attempt follows shortly.' });
    } catch (err) {
      if (!isPatchbayError(err)) throw err;
      return redirectWith(reply, to, { problem: errorMessage(err) });
    }
  });
}
