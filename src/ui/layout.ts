import { type Html, html, type Interpolation } from './html.js';

/** What every page is rendered with: who asks, and what the shell needs to say. */
export interface PageContext {
  /** The form token of the session (`_csrf` in every form). */
  csrf: string;
  /** No admin token is set: the UI is open to this machine, and says so. */
  open: boolean;
  /** The path asked for (`/ui/events`), to mark the current page in the navigation. */
  path: string;
  /** A message from the action that redirected here (`?notice=`). */
  notice?: string;
  /** An error message from the action that redirected here (`?problem=`). */
  problem?: string;
}

const NAV: readonly [string, string][] = [
  ['/ui/', 'Overview'],
  ['/ui/events', 'Events'],
  ['/ui/deliveries', 'Deliveries'],
  ['/ui/jobs', 'Jobs'],
  ['/ui/destinations', 'Destinations'],
  ['/ui/sources', 'Sources'],
  ['/ui/connections', 'Connections'],
  ['/ui/syncs', 'Syncs'],
];

function current(path: string, href: string): boolean {
  return href === '/ui/' ? path === '/ui/' || path === '/ui' : path.startsWith(href);
}

/** The hidden field every form posts; the server refuses a change without it. */
export function csrfField(ctx: PageContext): Html {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf}">`;
}

/** A button that posts one action (with its hidden fields) to `action`. */
export function actionButton(
  ctx: PageContext,
  action: string,
  label: string,
  options: { fields?: Record<string, string>; kind?: 'secondary' | 'danger'; confirm?: string } = {},
): Html {
  const fields = Object.entries(options.fields ?? {}).map(
    ([name, value]) => html`<input type="hidden" name="${name}" value="${value}">`,
  );
  return html`<form class="inline" method="post" action="${action}"${options.confirm ? html` data-confirm="${options.confirm}"` : ''}>${csrfField(ctx)}${fields}<button type="submit"${options.kind ? html` class="${options.kind}"` : ''}>${label}</button></form>`;
}

/** The page shell: skip link, navigation, the open-UI banner, notices, then the page's own content. */
export function layout(ctx: PageContext, title: string, body: Interpolation, head: Interpolation = ''): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · Patchbay</title>
<link rel="stylesheet" href="/ui/assets/ui.css">
<link rel="icon" href="data:,">
<script src="/ui/assets/ui.js" defer></script>
${head}
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<span class="brand">Patchbay</span>
<nav aria-label="Main"><ul>${NAV.map(
    ([href, label]) =>
      html`<li><a href="${href}"${current(ctx.path, href) ? html` aria-current="page"` : ''}>${label}</a></li>`,
  )}</ul></nav>
${
  ctx.open
    ? ''
    : html`<form method="post" action="/ui/sign-out">${csrfField(ctx)}<button type="submit">Sign out</button></form>`
}
</header>
${
  ctx.open &&
  html`<p class="banner" role="note">No admin token is set: this dashboard, like the admin API, is open to anyone on this machine. Set <code>PATCHBAY_ADMIN_TOKEN</code> to require sign-in.</p>`
}
<main id="main">
<h1>${title}</h1>
${ctx.notice && html`<p class="flash" role="status">${ctx.notice}</p>`}
${ctx.problem && html`<p class="flash error" role="alert">${ctx.problem}</p>`}
${body}
</main>
</body>
</html>`;
}
