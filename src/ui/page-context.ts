import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Html, Interpolation } from './html.js';
import { layout, type PageContext } from './layout.js';
import { sessionOf } from './ui-auth.js';

/** The shell's inputs for this request: its session's form token, the path, a notice passed along. */
export function pageContext(request: FastifyRequest, open: boolean): PageContext {
  const query = new URL(request.url, 'http://ui').searchParams;
  const notice = query.get('notice')?.slice(0, 300);
  const problem = query.get('problem')?.slice(0, 300);
  return {
    csrf: sessionOf(request).csrf,
    open,
    path: request.url.split('?')[0]!,
    ...(notice && { notice }),
    ...(problem && { problem }),
  };
}

/** Sends a full page. Pages are never cached: they show live state and carry a form token. */
export function sendPage(reply: FastifyReply, html: Html, status = 200): FastifyReply {
  return reply
    .status(status)
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(html.text);
}

export function renderPage(
  reply: FastifyReply,
  ctx: PageContext,
  title: string,
  body: Interpolation,
  status = 200,
  head: Interpolation = '',
): FastifyReply {
  return sendPage(reply, layout(ctx, title, body, head), status);
}

/** After a change: back to `to` (Post/Redirect/Get) with a notice or a problem to show. */
export function redirectWith(
  reply: FastifyReply,
  to: string,
  message: { notice: string } | { problem: string },
): FastifyReply {
  const url = new URL(to, 'http://ui');
  for (const [k, v] of Object.entries(message)) url.searchParams.set(k, v);
  return reply.redirect(`${url.pathname}${url.search}`, 303);
}
