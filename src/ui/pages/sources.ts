import type { FastifyInstance } from 'fastify';
import { count } from '../format.js';
import { html } from '../html.js';
import { pageContext, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { eventRow } from './event-row.js';

/** `/ui/sources`: each webhook source's scheme, its recent events, and requests refused by reason. */
export async function sourcesRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  app.get('/ui/sources', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const [sources, rejections] = await Promise.all([deps.events.sources.list(), deps.events.rejections()]);
    const refused = (id: string) =>
      rejections.filter((r) => r.source === id).reduce((n, r) => n + r.count, 0);
    const body = html`<table><thead><tr><th scope="col">Source</th><th scope="col">Scheme</th><th scope="col">Defined in</th><th scope="col" class="num">Secrets</th><th scope="col" class="num">Refused</th><th scope="col">Endpoint</th></tr></thead><tbody>
${sources.map(
  (s) =>
    html`<tr><td><a href="/ui/sources/${s.id}">${s.id}</a></td><td>${s.scheme}${s.insecure && html` <span class="status bad">unverified</span>`}</td><td>${s.origin}</td><td class="num">${s.secrets}</td><td class="num">${count(refused(s.id))}</td><td><code>POST /webhooks/${s.id}</code></td></tr>`,
)}</tbody></table>
${sources.length === 0 && html`<p class="muted">No webhook source yet.</p>`}
<p class="muted">Refusals are counted by this process since it started (its metrics: <code>patchbay_webhooks_rejected_total</code>).</p>`;
    return renderPage(reply, ctx, 'Sources', body);
  });

  app.get<{ Params: { id: string } }>('/ui/sources/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const source = await deps.events.sources.get(request.params.id);
    if (!source)
      return renderPage(reply, ctx, 'Source not found', html`<p>No source ${request.params.id}.</p>`, 404);
    const [recent, rejections] = await Promise.all([
      deps.events.browse({ source: source.id, limit: 20, window: 20_000 }),
      deps.events.rejections(),
    ]);
    const mine = rejections.filter((r) => r.source === source.id).sort((a, b) => b.count - a.count);
    const body = html`<dl class="facts">
<dt>Scheme</dt><dd>${source.scheme}</dd><dt>Defined in</dt><dd>${source.origin}</dd>
<dt>Secrets</dt><dd>${source.secrets}</dd><dt>Body limit</dt><dd>${count(source.bodyLimit)} bytes</dd>
<dt>Kept for</dt><dd>${Math.round(source.retentionMs / 3_600_000)} h</dd>
<dt>Endpoint</dt><dd><code>POST /webhooks/${source.id}</code></dd>
</dl>
<h2>Refused requests by reason</h2>
${
  mine.length === 0
    ? html`<p class="muted">None refused since this process started.</p>`
    : html`<table><thead><tr><th scope="col">Reason</th><th scope="col" class="num">Requests</th></tr></thead><tbody>${mine.map((r) => html`<tr><td><code>${r.code}</code></td><td class="num">${count(r.count)}</td></tr>`)}</tbody></table>`
}
<h2>Recent events</h2>
<table><thead><tr><th scope="col">Event</th><th scope="col">Source</th><th scope="col">Type</th><th scope="col" class="num">Bytes</th><th scope="col" class="num">Repeats</th><th scope="col">Received</th></tr></thead>
<tbody>${recent.rows.map(eventRow)}</tbody></table>
<p><a href="/ui/events?source=${source.id}">All events of ${source.id}</a></p>`;
    return renderPage(reply, ctx, `Source ${source.id}`, body);
  });
}
