import { createHmac } from 'node:crypto';

/** A GitHub webhook request for `app.inject`, signed with `secret` (`x-hub-signature-256`). */
export function githubRequest(secret: string, delivery: string) {
  const body = JSON.stringify({ action: 'created', n: delivery });
  return {
    method: 'POST' as const,
    body,
    headers: {
      'content-type': 'application/json',
      'x-github-delivery': delivery,
      'x-github-event': 'issue',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
    },
  };
}
