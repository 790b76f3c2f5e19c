import type { FastifyInstance, LightMyRequestResponse } from 'fastify';

/**
 * A browser's side of the dashboard over `inject`: keeps the session cookie, finds the CSRF token in
 * the pages it gets, and posts forms as a browser does (same-origin, urlencoded).
 */
export class UiClient {
  cookie: string | undefined;
  csrf: string | undefined;

  constructor(private readonly app: FastifyInstance) {}

  async get(url: string, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
    const res = await this.app.inject({
      method: 'GET',
      url,
      headers: { ...(this.cookie && { cookie: this.cookie }), ...headers },
    });
    this.remember(res);
    return res;
  }

  async post(
    url: string,
    fields: Record<string, string> = {},
    options: { csrf?: boolean; headers?: Record<string, string> } = {},
  ): Promise<LightMyRequestResponse> {
    const body = new URLSearchParams({
      ...(options.csrf !== false && this.csrf && { _csrf: this.csrf }),
      ...fields,
    });
    const res = await this.app.inject({
      method: 'POST',
      url,
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'http://localhost:80',
        host: 'localhost:80',
        'sec-fetch-site': 'same-origin',
        ...(this.cookie && { cookie: this.cookie }),
        ...options.headers,
      },
      payload: body.toString(),
    });
    this.remember(res);
    return res;
  }

  /** Signs in, then opens the overview (which gives the form token). */
  async signIn(token: string): Promise<LightMyRequestResponse> {
    const res = await this.post('/ui/sign-in', { token, next: '/ui/' });
    if (res.statusCode === 303) await this.get('/ui/');
    return res;
  }

  private remember(res: LightMyRequestResponse): void {
    const set = res.headers['set-cookie'];
    for (const line of Array.isArray(set) ? set : set ? [set] : []) {
      const pair = line.split(';')[0]!;
      if (!pair.startsWith('patchbay_session=')) continue;
      this.cookie = pair.endsWith('=') ? undefined : pair;
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1];
    if (token) this.csrf = token;
  }
}
