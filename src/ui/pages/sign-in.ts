import { type Html, html } from '../html.js';

/** The sign-in form: the admin token, posted to /ui/sign-in. */
export function signInPage(options: { next: string; problem?: string }): Html {
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · Patchbay</title><link rel="stylesheet" href="/ui/assets/ui.css"><link rel="icon" href="data:,"></head>
<body>
<main class="signin" id="main">
<h1>Sign in to Patchbay</h1>
${options.problem && html`<p class="flash error" role="alert">${options.problem}</p>`}
<form method="post" action="/ui/sign-in">
<input type="hidden" name="next" value="${options.next}">
<label for="token">Admin token <span class="muted">(PATCHBAY_ADMIN_TOKEN)</span>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>`;
}
