import type { FastifyInstance } from 'fastify';
import { errorMessage, isPatchbayError } from '../../core/errors.js';
import { type BulkAction, type BulkJob, type BulkJobs, jobSummary } from '../bulk-jobs.js';
import { type FormQuery, withQuery } from '../filters.js';
import { badge, when } from '../format.js';
import { type Html, html } from '../html.js';
import { actionButton, type PageContext } from '../layout.js';
import { pageContext, redirectWith, renderPage } from '../page-context.js';
import type { UiDeps } from '../ui-deps.js';
import { DELIVERY_FILTER_FIELDS, deliveryFilter } from './deliveries.js';

const ACTIONS: Record<BulkAction, string> = {
  replay: 'Replay all matching',
  retry: 'Retry failed matching',
};

const live = (job: BulkJob) => job.state === 'collecting' || job.state === 'running';

/** The filter a job was started with, in words. */
function filterText(job: BulkJob): string {
  const parts = Object.entries(job.form).map(([k, v]) => `${k} ${v}`);
  return parts.length ? parts.join(', ') : 'every delivery';
}

function jobRow(job: BulkJob): Html {
  return html`<tr><td><a href="/ui/jobs/${job.id}">${job.id}</a></td><td>${ACTIONS[job.action]}</td><td>${filterText(job)}</td><td>${badge(job.state)}</td><td>${jobSummary(job)}</td><td>${when(job.startedAt)}</td></tr>`;
}

function progress(ctx: PageContext, job: BulkJob): Html {
  // Without script the page reloads itself while the job runs; with it, ui.js polls the JSON instead.
  return html`<section class="job" data-job="/ui/jobs/${job.id}" data-state="${live(job) ? 'running' : job.state}" aria-labelledby="h-progress">
<h2 id="h-progress">Progress</h2>
<p><label for="job-progress">${ACTIONS[job.action]}</label>
<progress id="job-progress" max="${Math.max(job.total ?? 1, 1)}"${job.total === null ? '' : html` value="${job.done + job.refused}"`}></progress></p>
<p role="status" aria-live="polite" data-progress-text>${jobSummary(job)}</p>
${live(job) && actionButton(ctx, `/ui/jobs/${job.id}/cancel`, 'Cancel', { kind: 'danger' })}
</section>`;
}

/** `/ui/jobs`: bulk replays and retries started from the deliveries page, with live progress. */
export async function jobsRoutes(app: FastifyInstance, deps: UiDeps, jobs: BulkJobs): Promise<void> {
  app.post<{ Body: FormQuery }>('/ui/jobs', async (request, reply) => {
    const form = request.body ?? {};
    const action = form.action === 'retry' ? 'retry' : form.action === 'replay' ? 'replay' : undefined;
    const kept: Record<string, string> = {};
    for (const name of DELIVERY_FILTER_FIELDS) {
      const value = form[name]?.trim();
      if (value) kept[name] = value;
    }
    const back = withQuery('/ui/deliveries', kept, {});
    if (!action) return redirectWith(reply, back, { problem: 'action must be replay or retry' });
    try {
      const filter = deliveryFilter(kept, deps.clock.now());
      if (action === 'retry' && filter.status !== undefined && filter.status !== 'failed') {
        return redirectWith(reply, back, {
          problem: `Retry takes the failed deliveries; this filter asks for ${filter.status} ones (use Replay).`,
        });
      }
      const job = jobs.start(action, filter, kept);
      request.log.info({ job: job.id, action, filter: kept }, 'dashboard bulk job started');
      return reply.redirect(`/ui/jobs/${job.id}`, 303);
    } catch (err) {
      if (!isPatchbayError(err) || err.code !== 'INVALID_ARGUMENT') throw err;
      return redirectWith(reply, back, { problem: errorMessage(err) });
    }
  });

  app.get('/ui/jobs', async (request, reply) => {
    const ctx = pageContext(request, deps.open);
    const all = jobs.list();
    const body = html`<p class="muted">Bulk replays and retries started from <a href="/ui/deliveries">Deliveries</a> in this process (the newest ${all.length}).</p>
${
  all.length === 0
    ? html`<p class="muted">No job yet.</p>`
    : html`<table><thead><tr><th scope="col">Job</th><th scope="col">Action</th><th scope="col">Filter</th><th scope="col">State</th><th scope="col">Progress</th><th scope="col">Started</th></tr></thead><tbody>${all.map(jobRow)}</tbody></table>`
}`;
    return renderPage(reply, ctx, 'Jobs', body);
  });

  app.get<{ Params: { id: string } }>('/ui/jobs/:id', async (request, reply) => {
    const job = jobs.get(request.params.id);
    if (request.headers.accept === 'application/json') {
      if (!job) return reply.status(404).send({ error: `no job ${request.params.id} in this process` });
      return reply.header('cache-control', 'no-store').send({
        id: job.id,
        state: live(job) ? 'running' : job.state,
        total: job.total,
        done: job.done + job.refused,
        summary: jobSummary(job),
      });
    }
    const ctx = pageContext(request, deps.open);
    if (!job) {
      const body = html`<p>No job ${request.params.id} in this process: jobs are kept in the process that started them, and the newest 20 only.</p>`;
      return renderPage(reply, ctx, 'Job not found', body, 404);
    }
    const body = html`<dl class="facts">
<dt>Action</dt><dd>${ACTIONS[job.action]}</dd>
<dt>Filter</dt><dd><a href="${withQuery('/ui/deliveries', job.form, {})}">${filterText(job)}</a></dd>
<dt>State</dt><dd>${badge(job.state)}</dd>
<dt>Started</dt><dd>${when(job.startedAt)}</dd>
<dt>Finished</dt><dd>${when(job.finishedAt)}</dd>
${job.lastProblem && html`<dt>Last refusal</dt><dd>${job.lastProblem}</dd>`}
</dl>
${progress(ctx, job)}`;
    const head = live(job) ? html`<meta http-equiv="refresh" content="2">` : '';
    return renderPage(reply, ctx, `Job ${job.id}`, body, 200, head);
  });

  app.post<{ Params: { id: string } }>('/ui/jobs/:id/cancel', async (request, reply) => {
    const to = `/ui/jobs/${encodeURIComponent(request.params.id)}`;
    return jobs.cancel(request.params.id)
      ? redirectWith(reply, to, { notice: 'Cancelling: replays already queued stay queued.' })
      : redirectWith(reply, to, { problem: 'This job is not running.' });
  });
}
