import type { FastifyInstance } from 'fastify';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import { idFloor } from '../../core/ids.js';
import type { EventBrowseQuery } from '../../store/event-store.js';
import { cursorField, type FormQuery, field, lastEventId, timeField } from '../filters.js';
import { badge, bodyText, when } from '../format.js';
import { type Html, html } from '../html.js';
import { PAGE_SIZE, pager, SEARCH_WINDOW, TEXT_WINDOW, tailControl } from '../listing.js';
import { TAIL_BATCH } from '../live-tail.js';
import { pageContext, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { eventRow } from './event-row.js';

export function eventFilter(query: FormQuery, now: number): Omit<EventBrowseQuery, 'limit' | 'window'> {
  const source = field(query, 'source', 64);
  const type = field(query, 'type', 200);
  const text = field(query, 'text', 200);
  const since = timeField(query, 'since', now);
  const until = timeField(query, 'until', now);
  const before = cursorField(query, 'before');
  return {
    ...(source !== undefined && { source }),
    ...(type !== undefined && { type }),
    ...(text !== undefined && { text }),
    // The ids narrow what is read; the rows' own times decide (ids can hold a later time than the row).
    ...(since !== undefined && { since, floor: idFloor('evt', since) }),
    ...(until !== undefined && { until, ceiling: idFloor('evt', until) }),
    ...(before !== undefined && { before }),
  };
}

function filterForm(query: FormQuery, sources: readonly string[]): Html {
  return html`<form class="filters" method="get" action="/ui/events" role="search" aria-label="Filter events">
<label for="f-source">Source<select id="f-source" name="source"><option value="">any</option>
${sources.map((s) => html`<option value="${s}"${query.source === s ? html` selected` : ''}>${s}</option>`)}</select></label>
<label for="f-type">Type<input id="f-type" name="type" value="${query.type ?? ''}" placeholder="contact.* or push" size="16"></label>
<label for="f-text">Payload contains<input id="f-text" name="text" value="${query.text ?? ''}" size="16"></label>
<label for="f-since">Since<input id="f-since" name="since" value="${query.since ?? ''}" placeholder="2h or 2026-03-01T10:00" size="18"></label>
<label for="f-until">Until<input id="f-until" name="until" value="${query.until ?? ''}" placeholder="UTC" size="18"></label>
<button type="submit">Filter</button> <a href="/ui/events">Clear</a>
</form>`;
}

/** `/ui/events` and `/ui/events/:id`: the event log with filters; one event's headers, payload, deliveries. */
export async function eventsRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  app.get<{ Querystring: FormQuery }>('/ui/events', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const query = request.query;
    const sources = ['api', 'patchbay', ...(await deps.events.sources.list()).map((s) => s.id)];
    let list: Html = html``;
    let tail: Html | false = false;
    let status = 200;
    try {
      const filter = eventFilter(query, deps.clock.now());
      const window = filter.text === undefined ? SEARCH_WINDOW : TEXT_WINDOW;
      const page = await deps.events.browse({ ...filter, limit: PAGE_SIZE, window });
      list = html`<table><caption class="muted">Newest first</caption><thead><tr><th scope="col">Event</th><th scope="col">Source</th><th scope="col">Type</th><th scope="col" class="num">Bytes</th><th scope="col" class="num">Repeats</th><th scope="col">Received</th></tr></thead>
<tbody id="event-rows">${page.rows.map(eventRow)}</tbody></table>
${page.rows.length === 0 && html`<p class="muted">No event matches.</p>`}
${pager('/ui/events', query, page, window)}`;
      tail = tailControl('/ui/events/live', query, page.rows[0]?.id, 'event-rows');
    } catch (err) {
      if (!isPatchbayError(err) || err.code !== 'INVALID_ARGUMENT') throw err;
      ctx.problem = errorMessage(err);
      status = 400;
    }
    const body = html`${filterForm(query, sources)}
${tail}
${list}`;
    return renderPage(reply, ctx, 'Events', body, status);
  });

  app.get<{ Querystring: FormQuery }>('/ui/events/live', async (request, reply) => {
    const { before: _before, ...filter } = eventFilter(request.query, deps.clock.now());
    const after = cursorField({ after: lastEventId(request.headers) ?? request.query.after }, 'after');
    await deps.tails.serve(request, reply, after, {
      prefix: 'evt',
      newer: async (floor) =>
        (await deps.events.browse({ ...filter, floor, limit: TAIL_BATCH, window: 10_000 })).rows,
      row: eventRow,
    });
  });

  app.get<{ Params: { id: string } }>('/ui/events/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const event = await deps.events.get(request.params.id);
    if (!event)
      return renderPage(reply, ctx, 'Event not found', html`<p>No event ${request.params.id}.</p>`, 404);
    const deliveries = await deps.delivery.forEvent(event.id);
    const body = html`<dl class="facts">
<dt>Source</dt><dd>${event.source}</dd><dt>Type</dt><dd>${event.type}</dd>
<dt>Sender's id</dt><dd><code>${event.externalId}</code></dd>
<dt>Verified by</dt><dd>${event.verification}</dd>
<dt>Received</dt><dd>${when(event.receivedAt)}</dd>
<dt>Occurred</dt><dd>${when(event.occurredAt)}</dd>
<dt>Repeats</dt><dd>${event.duplicates}${event.lastDuplicateAt !== null && html` (last ${when(event.lastDuplicateAt)})`}</dd>
</dl>
<h2>Delivered to</h2>
${
  deliveries.length === 0
    ? html`<p class="muted">No destination matched this event.</p>`
    : html`<table><thead><tr><th scope="col">Delivery</th><th scope="col">Destination</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">HTTP</th></tr></thead><tbody>
${deliveries.map((d) => html`<tr><td><a href="/ui/deliveries/${d.id}">${d.id}</a></td><td>${d.destinationId}</td><td>${badge(d.status)}</td><td class="num">${d.attempts}</td><td class="num">${d.lastStatus ?? ''}</td></tr>`)}
</tbody></table>`
}
<h2>Headers</h2>
<table><thead><tr><th scope="col">Name</th><th scope="col">Value</th></tr></thead><tbody>
${Object.entries(event.headers).map(([k, v]) => html`<tr><td><code>${k}</code></td><td><code>${v}</code></td></tr>`)}
</tbody></table>
<p class="muted">Credentials and signature headers are not stored.</p>
<h2>Payload <span class="muted">${event.contentType ?? ''}</span></h2>
<pre>${bodyText(event.body)}</pre>`;
    return renderPage(reply, ctx, `Event ${event.id}`, body);
  });
}
