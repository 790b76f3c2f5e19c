import type { FastifyInstance } from 'fastify';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { pageContext, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';

/** `/ui/`: every connection, source and destination with its state and last error. */
export async function overviewRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  app.get('/ui/', async (request, reply) => {
    const [connections, sources, destinations] = await Promise.all([
      deps.vault.connections.list({ limit: 100 }),
      deps.events.sources.list(),
      deps.delivery.destinations.list(),
    ]);
    const body: Html = html`
<div class="cards">
<section class="card" aria-labelledby="h-connections"><h2 id="h-connections"><a href="/ui/connections">Connections</a></h2>
${
  connections.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<table><thead><tr><th scope="col">Connection</th><th scope="col">Status</th><th scope="col">Last error</th></tr></thead><tbody>
${connections.map(
  (c) =>
    html`<tr><td><a href="/ui/connections/${c.id}">${c.id}</a> <span class="muted">${c.provider}</span></td><td>${badge(c.status)}</td><td>${c.statusReason ?? html`<span class="muted">—</span>`}</td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="h-sources"><h2 id="h-sources"><a href="/ui/sources">Sources</a></h2>
${
  sources.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<table><thead><tr><th scope="col">Source</th><th scope="col">Scheme</th><th scope="col">Origin</th></tr></thead><tbody>
${sources.map(
  (s) =>
    html`<tr><td><a href="/ui/sources/${s.id}">${s.id}</a></td><td>${s.scheme}</td><td>${s.origin}</td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="h-destinations"><h2 id="h-destinations"><a href="/ui/destinations">Destinations</a></h2>
${
  destinations.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<table><thead><tr><th scope="col">Destination</th><th scope="col">Status</th><th scope="col">Failing since / why</th></tr></thead><tbody>
${destinations.map(
  (d) =>
    html`<tr><td><a href="/ui/destinations/${d.id}">${d.id}</a></td><td>${badge(d.status)} ${badge(deps.delivery.destinations.breakerState(d.id))}</td><td>${d.disabledReason ?? (d.failingSince ? when(d.failingSince) : html`<span class="muted">—</span>`)}</td></tr>`,
)}</tbody></table>`
}
</section>
</div>`;
    return renderPage(reply, pageContext(request, deps.open), 'Overview', body);
  });
}
