import type { FastifyInstance } from 'fastify';
import { barChart, hourLabels } from '../chart.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { pageContext, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { breaker } from './destinations.js';

const HOUR = 3_600_000;
/** Hours the charts look back. */
const HOURS = 24;

/** Events received and attempts made per hour over the last day, from the store (ids carry the time). */
async function charts(deps: UiDeps): Promise<Html> {
  const now = deps.clock.now();
  const from = Math.floor(now / HOUR) * HOUR - (HOURS - 1) * HOUR;
  const [received, attempts] = await Promise.all([
    deps.events.countsByTime(from, now + 1, HOUR),
    deps.delivery.attemptCounts(from, now + 1, HOUR),
  ]);
  const hours = hourLabels(from, HOURS, HOUR);
  return html`<div class="cards charts">
${barChart('Events received', hours, [{ label: 'events', tone: 'plain', values: received }], 'per hour, last 24 h')}
${barChart(
  'Delivery attempts',
  hours,
  [
    { label: 'succeeded', tone: 'ok', values: attempts.map((a) => a.succeeded) },
    { label: 'failed', tone: 'bad', values: attempts.map((a) => a.failed) },
  ],
  'per hour, last 24 h',
)}
</div>`;
}

/** `/ui/`: throughput and failures, then every connection, source and destination with its state. */
export async function overviewRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  app.get('/ui/', async (request, reply) => {
    const [chartsHtml, connections, sources, destinations, syncs] = await Promise.all([
      charts(deps),
      deps.vault.connections.list({ limit: 100 }),
      deps.events.sources.list(),
      deps.delivery.destinations.list(),
      deps.syncs.list(),
    ]);
    const body: Html = html`${chartsHtml}
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
    html`<tr><td><a href="/ui/destinations/${d.id}">${d.id}</a></td><td>${badge(d.status)} ${breaker(d, deps.delivery.destinations.breakerState(d.id))}</td><td>${d.disabledReason ?? (d.failingSince ? when(d.failingSince) : html`<span class="muted">—</span>`)}</td></tr>`,
)}</tbody></table>`
}
</section>
<section class="card" aria-labelledby="h-syncs"><h2 id="h-syncs"><a href="/ui/syncs">Syncs</a></h2>
${
  syncs.length === 0
    ? html`<p class="muted">None yet.</p>`
    : html`<table><thead><tr><th scope="col">Sync</th><th scope="col">State</th><th scope="col">Last error</th></tr></thead><tbody>
${syncs.map(
  (s) =>
    html`<tr><td><a href="/ui/syncs/${s.id}">${s.id}</a></td><td>${badge(s.state)} ${badge(s.lastRun?.status ?? 'idle')}</td><td>${s.lastRun?.error ?? html`<span class="muted">—</span>`}</td></tr>`,
)}</tbody></table>`
}
</section>
</div>`;
    return renderPage(reply, pageContext(request, deps.open), 'Overview', body);
  });
}
