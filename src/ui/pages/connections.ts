import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import type { Connection } from '../../vault/index.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, csrfField, type PageContext } from '../layout.js';
import { pageContext, redirectWith, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';

const isOAuth = (c: Connection) =>
  c.scheme === 'oauth2-authorization-code' || c.scheme === 'oauth2-client-credentials';

function actions(ctx: PageContext, c: Connection): Html {
  const base = `/ui/connections/${c.id}`;
  return html`<div class="actions">
${c.scheme === 'oauth2-authorization-code' && actionButton(ctx, `${base}/authorize`, c.status === 'needs_reauth' || !c.hasAccessToken ? 'Authorize' : 'Authorize again')}
${isOAuth(c) && c.hasAccessToken && actionButton(ctx, `${base}/refresh`, 'Refresh credentials now', { kind: 'secondary' })}
${actionButton(ctx, `${base}/check`, 'Test connection', { kind: 'secondary' })}
</div>
${testForm(ctx, c.id, '/')}`;
}

/** Bytes of a test call's answer shown at most. */
const TEST_BODY_LIMIT = 4096;

/** A GET of any path through the connection's own client: its credentials, limits, breaker and retries. */
function testForm(ctx: PageContext, id: string, path: string): Html {
  return html`<form class="actions" method="post" action="/ui/connections/${id}/test">${csrfField(ctx)}<label for="test-path">Call a path: GET<input id="test-path" name="path" value="${path}" size="32" required pattern="/.*"></label><button type="submit" class="secondary">Call</button></form>`;
}

/** An error of a call as the page shows it: its code, the HTTP status when there was one, the message. */
function callError(err: unknown): Html {
  if (!isPatchbayError(err)) throw err;
  const status = (err as { status?: number }).status;
  return html`<p class="flash error" role="alert">${err.code}${status !== undefined && ` (HTTP ${status})`}: ${errorMessage(err)}</p>`;
}

/** The answer page of a check or a call (a POST's answer: nothing of it goes into a URL). */
function callPage(ctx: PageContext, id: string, what: Html, result: Html, path: string): Html {
  return html`<p><a href="/ui/connections/${id}">Back to ${id}</a></p>
<p class="muted">${what}</p>
${result}
${testForm(ctx, id, path)}`;
}

function answerText(body: unknown): string {
  if (body === undefined) return '(empty)';
  const text = Buffer.isBuffer(body)
    ? `(${body.length} bytes of binary data)`
    : typeof body === 'string'
      ? body
      : JSON.stringify(body, null, 2);
  return text.length > TEST_BODY_LIMIT
    ? `${text.slice(0, TEST_BODY_LIMIT)}\n… (cut at ${TEST_BODY_LIMIT} characters)`
    : text;
}

/** Where the provider sends the browser back: this server's own callback, as the admin API does it. */
function origin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

/** `/ui/connections`: status, re-authorization, refresh. */
export async function connectionsRoutes(app: FastifyInstance, deps: UiDeps): Promise<void> {
  const { vault } = deps;

  app.get('/ui/connections', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const all = await vault.connections.list({ limit: 500 });
    const body = html`<table><thead><tr><th scope="col">Connection</th><th scope="col">Provider</th><th scope="col">Auth</th><th scope="col">Status</th><th scope="col">Why</th><th scope="col">Token expires</th></tr></thead><tbody>
${all.map(
  (c) =>
    html`<tr><td><a href="/ui/connections/${c.id}">${c.id}</a></td><td>${c.provider}</td><td>${c.scheme}</td><td>${badge(c.status)}${c.status === 'needs_reauth' && html` <a href="/ui/connections/${c.id}">re-authorize</a>`}</td><td>${c.statusReason ?? ''}</td><td>${when(c.expiresAt)}</td></tr>`,
)}</tbody></table>
${all.length === 0 && html`<p class="muted">No connection yet.</p>`}`;
    return renderPage(reply, ctx, 'Connections', body);
  });

  app.get<{ Params: { id: string } }>('/ui/connections/:id', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const c = await vault.connections.get(request.params.id);
    if (!c)
      return renderPage(
        reply,
        ctx,
        'Connection not found',
        html`<p>No connection ${request.params.id}.</p>`,
        404,
      );
    const body = html`${
      c.status === 'needs_reauth' &&
      html`<p class="flash error" role="alert">This connection needs re-authorization: ${c.statusReason ?? 'its grant is no longer valid'}.</p>`
    }
<dl class="facts">
<dt>Provider</dt><dd>${c.provider}</dd>
<dt>Base URL</dt><dd>${c.baseUrl ?? html`<span class="muted">provider default</span>`}</dd>
<dt>Auth</dt><dd>${c.scheme}</dd>
<dt>Status</dt><dd>${badge(c.status)} ${c.statusReason ?? ''}</dd>
<dt>Secrets set</dt><dd>${c.secretFields.length ? c.secretFields.join(', ') : 'none'} <span class="muted">(never shown)</span></dd>
${isOAuth(c) && html`<dt>Access token</dt><dd>${c.hasAccessToken ? 'held' : 'none yet'}</dd><dt>Expires</dt><dd>${when(c.expiresAt)}</dd><dt>Last refreshed</dt><dd>${when(c.refreshedAt)}</dd>`}
<dt>Defined in</dt><dd>${c.origin}</dd>
<dt>Updated</dt><dd>${when(c.updatedAt)}</dd>
</dl>
${actions(ctx, c)}`;
    return renderPage(reply, ctx, `Connection ${c.id}`, body);
  });

  const fail = (reply: Parameters<typeof redirectWith>[0], id: string, err: unknown) => {
    if (!isPatchbayError(err) || err.code === 'INTERNAL') throw err;
    return redirectWith(reply, `/ui/connections/${encodeURIComponent(id)}`, { problem: errorMessage(err) });
  };

  app.post<{ Params: { id: string } }>('/ui/connections/:id/authorize', async (request, reply) => {
    const { id } = request.params;
    try {
      const started = await vault.authorization.start(
        id,
        {
          redirectUri: `${origin(request)}/oauth/callback`,
          returnTo: `${origin(request)}/ui/connections/${encodeURIComponent(id)}`,
        },
        AbortSignal.timeout(15_000),
      );
      return reply.redirect(started.url, 303);
    } catch (err) {
      return fail(reply, id, err);
    }
  });

  // The answer is shown on the page that the POST returns, never in a URL.
  app.post<{ Params: { id: string }; Body: Record<string, string> | undefined }>(
    '/ui/connections/:id/test',
    async (request, reply) => {
      const ctx = pageContext(request, deps.open);
      const { id } = request.params;
      const path = request.body?.path?.trim() ?? '';
      if (!path.startsWith('/') || path.startsWith('//') || path.length > 500) {
        return redirectWith(reply, `/ui/connections/${encodeURIComponent(id)}`, {
          problem: "The test call takes a path on the connection's base URL, starting with / (like /whoami).",
        });
      }
      const started = deps.clock.now();
      let result: Html;
      try {
        const client = await deps.connections.client(id);
        const res = await client.request({ method: 'GET', path, signal: AbortSignal.timeout(30_000) });
        result = html`<p class="flash" role="status">HTTP ${res.status} after ${res.attempts} attempt${res.attempts === 1 ? '' : 's'}, ${deps.clock.now() - started} ms.</p>
<h2>Answer headers</h2><pre>${Object.entries(res.headers).map(([k, v]) => `${k}: ${v}\n`)}</pre>
<h2>Answer body</h2><pre>${answerText(res.body)}</pre>`;
      } catch (err) {
        result = callError(err);
      }
      const what = html`GET <code>${path}</code> through the connection's client, with its credentials, limits, breaker and retries.`;
      return renderPage(reply, ctx, `Test call: ${id}`, callPage(ctx, id, what, result, path));
    },
  );

  // The provider's own check (ConnectorClients.check, as the catalog defines it): its cheapest read
  // that needs the credential, so a pass means the provider took it.
  app.post<{ Params: { id: string } }>('/ui/connections/:id/check', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const { id } = request.params;
    let result: Html;
    try {
      const check = await deps.connections.check(id, { signal: AbortSignal.timeout(30_000) });
      result = html`<p class="flash" role="status">Passed: HTTP ${check.status} from GET <code>${check.path}</code> in ${check.durationMs} ms; the provider accepted the credentials.</p>`;
    } catch (err) {
      result = html`${callError(err)}${
        isPatchbayError(err, 'INVALID_ARGUMENT') &&
        html`<p>Without a provider check, call a path of its API that needs the credentials instead.</p>`
      }`;
    }
    const what = html`The provider's check: its cheapest read that needs the connection's credentials, through the connection's client.`;
    return renderPage(reply, ctx, `Test: ${id}`, callPage(ctx, id, what, result, '/'));
  });

  app.post<{ Params: { id: string } }>('/ui/connections/:id/refresh', async (request, reply) => {
    const { id } = request.params;
    try {
      const c = await vault.connections.require(id);
      await vault.refresh.forceRefresh(id, c.version, AbortSignal.timeout(30_000));
      return redirectWith(reply, `/ui/connections/${encodeURIComponent(id)}`, {
        notice: 'Fresh credentials obtained.',
      });
    } catch (err) {
      return fail(reply, id, err);
    }
  });
}
