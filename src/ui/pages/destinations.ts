import type { FastifyInstance } from 'fastify';
import { ErrorCode, errorMessage, isPatchbayError, PatchbayError } from '../../core/errors.js';
import type { DestinationView } from '../../webhooks/delivery/deliveries-service.js';
import { type FormQuery, timeField } from '../filters.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, csrfField, type PageContext } from '../layout.js';
import { pageContext, redirectWith, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { deliveryRow } from './delivery-row.js';

function limits(d: DestinationView): Html {
  const parts = [
    d.rateLimit?.perSecond !== undefined && `${d.rateLimit.perSecond}/s`,
    d.rateLimit?.maxConcurrent !== undefined && `${d.rateLimit.maxConcurrent} at once`,
  ].filter(Boolean);
  return parts.length ? html`${parts.join(', ')}` : html`<span class="muted">none</span>`;
}

/** A destination's breaker as this process sees it, or "off" when it has none (`breaker: false`). */
export function breaker(d: DestinationView, state: string): Html {
  return d.breaker === 'off' ? html`<span class="muted">off</span>` : badge(state);
}

function actions(ctx: PageContext, d: DestinationView): Html {
  const base = `/ui/destinations/${d.id}`;
  return html`<div class="actions">
${
  d.status === 'enabled'
    ? html`<form method="post" action="${base}/disable">${csrfField(ctx)}<label for="reason">Reason<input id="reason" name="reason" value="disabled from the dashboard" size="28"></label><button type="submit" class="danger">Disable</button></form>`
    : actionButton(ctx, `${base}/enable`, 'Enable')
}
<form method="post" action="${base}/recover">${csrfField(ctx)}<label for="recover-since">Recover failures since<input id="recover-since" name="since" value="24h" size="14" required></label><button type="submit" class="secondary">Recover</button></form>
${
  d.kind === 'http' &&
  d.origin === 'api' &&
  actionButton(ctx, `${base}/rotate-secret`, 'Rotate signing secret', {
    kind: 'secondary',
    confirm: 'Make a new signing secret? The current one keeps signing until you remove it.',
  })
}
</div>`;
}

/** `/ui/destinations`: state, breaker, limits, failures; disable, enable, recover, rotate the secret. */
export async function destinationsRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const service = deps.delivery.destinations;

  app.get('/ui/destinations', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const all = await service.list();
    const body = html`<table><thead><tr><th scope="col">Destination</th><th scope="col">Kind</th><th scope="col">Status</th><th scope="col">Breaker</th><th scope="col">Limits</th><th scope="col">Failing since</th><th scope="col">Why disabled</th></tr></thead><tbody>
${all.map(
  (d) =>
    html`<tr><td><a href="/ui/destinations/${d.id}">${d.id}</a></td><td>${d.kind}${d.kind === 'http' && html` <span class="muted">${d.url}</span>`}</td><td>${badge(d.status)}</td><td>${breaker(d, service.breakerState(d.id))}</td><td>${limits(d)}</td><td>${when(d.failingSince)}</td><td>${d.disabledReason ?? ''}</td></tr>`,
)}</tbody></table>
${all.length === 0 && html`<p class="muted">No destination yet: add them in the configuration file or with <code>POST /api/v1/destinations</code>.</p>`}`;
    return renderPage(reply, ctx, 'Destinations', body);
  });

  app.get<{ Params: { id: string } }>('/ui/destinations/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const d = await service.get(request.params.id);
    if (!d)
      return renderPage(
        reply,
        ctx,
        'Destination not found',
        html`<p>No destination ${request.params.id}.</p>`,
        404,
      );
    const recent = await deps.delivery.browse({ destinationId: d.id, limit: 20, window: 20_000 });
    const body = html`<dl class="facts">
<dt>Kind</dt><dd>${d.kind}${d.kind === 'http' && html` <code>${d.url}</code>`}</dd>
<dt>Defined in</dt><dd>${d.origin}</dd>
<dt>Status</dt><dd>${badge(d.status)}${d.disabledReason && html` ${d.disabledReason} (${when(d.disabledAt)})`}</dd>
<dt>Breaker</dt><dd>${breaker(d, service.breakerState(d.id))} <span class="muted">as this process sees it</span></dd>
<dt>Limits</dt><dd>${limits(d)}</dd>
<dt>Failing since</dt><dd>${when(d.failingSince)}</dd>
<dt>Events</dt><dd>${d.events ? d.events.join(', ') : 'all'}</dd>
<dt>Ordered</dt><dd>${d.ordered ? 'yes' : 'no'}</dd>
<dt>Timeout</dt><dd>${d.timeoutMs} ms</dd>
${d.kind === 'http' && html`<dt>Signing secrets</dt><dd>${d.secrets ?? 0}</dd>`}
</dl>
${actions(ctx, d)}
<h2>Recent deliveries</h2>
<table><thead><tr><th scope="col">Delivery</th><th scope="col">Destination</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col" class="num">Attempts</th><th scope="col" class="num">HTTP</th><th scope="col">Last error</th><th scope="col">Created</th></tr></thead>
<tbody>${recent.rows.map(deliveryRow)}</tbody></table>
<p><a href="/ui/deliveries?destination=${d.id}">All deliveries to ${d.id}</a></p>`;
    return renderPage(reply, ctx, `Destination ${d.id}`, body);
  });

  const act = (path: string, run: (id: string, form: FormQuery) => Promise<string>) =>
    app.post<{ Params: { id: string }; Body: FormQuery }>(
      `/ui/destinations/:id/${path}`,
      async (request, reply) => {
        const to = `/ui/destinations/${encodeURIComponent(request.params.id)}`;
        try {
          return redirectWith(reply, to, { notice: await run(request.params.id, request.body ?? {}) });
        } catch (err) {
          if (!isPatchbayError(err) || err.code === 'INTERNAL') throw err;
          return redirectWith(reply, to, { problem: errorMessage(err) });
        }
      },
    );

  act('disable', async (id, form) => {
    await service.disable(id, form.reason?.trim().slice(0, 200) || 'disabled from the dashboard');
    return `Disabled ${id}: new deliveries wait until it is enabled.`;
  });
  act('enable', async (id) => {
    await service.enable(id);
    return `Enabled ${id}.`;
  });
  act('recover', async (id, form) => {
    const since = timeField(form, 'since', deps.clock.now());
    if (since === undefined) throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, 'since is required');
    const { replayed } = await deps.delivery.recover(id, { since });
    return `Recovering ${id}: ${replayed} failed deliveries queued again.`;
  });
  // The new secret is shown on the answer itself, never put in a URL (history, proxies' logs).
  app.post<{ Params: { id: string } }>('/ui/destinations/:id/rotate-secret', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    try {
      const { id, secret } = await service.rotateSecret(request.params.id);
      const body = html`<p>Give this new signing secret to the receiver of <a href="/ui/destinations/${id}">${id}</a>. It is shown once. Deliveries are signed with it and with the previous secret until you retire the previous one (<code>PATCH /api/v1/destinations/${id}</code> with <code>secrets: [new]</code>).</p>
<pre aria-label="New signing secret">${secret}</pre>`;
      return renderPage(reply, ctx, 'New signing secret', body);
    } catch (err) {
      if (!isPatchbayError(err) || err.code === 'INTERNAL') throw err;
      return redirectWith(reply, `/ui/destinations/${encodeURIComponent(request.params.id)}`, {
        problem: errorMessage(err),
      });
    }
  });
}
