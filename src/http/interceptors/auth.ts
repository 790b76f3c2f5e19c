import type { Classifier } from '../../resilience/classification.js';
import type { Authorization, AuthProvider } from '../auth-provider.js';
import type { HttpCall, Interceptor } from '../http-types.js';

/**
 * Outermost policy: puts the credentials on the call and, when the upstream answers 401, asks the
 * provider for fresh ones once and replays the call once (a second 401 is final). It sits outside the
 * retry loop so a refresh happens at most once per call, however many attempts the loop makes.
 */
export function authInterceptor(provider: () => Promise<AuthProvider>, classifier: Classifier): Interceptor {
  return (next) => async (call) => {
    const auth = await provider();
    const attempt = async () =>
      next(authorize(call, await auth.authorize(authRequest(call), call.signal), auth));
    try {
      return await attempt();
    } catch (error) {
      if (classifier.error(error) !== 'auth' || !auth.onUnauthorized) throw error;
      if (!(await auth.onUnauthorized(call.signal))) throw error;
      return attempt();
    }
  };
}

function authRequest(call: HttpCall) {
  return { method: call.method, url: new URL(call.url), headers: { ...call.headers } };
}

/** The call with the provider's headers and query parameters set, and their values noted as secrets. */
function authorize(call: HttpCall, authorization: Authorization, provider: AuthProvider): HttpCall {
  const { state } = call;
  const remember = (value: string) => {
    if (value.length > 0 && !state.secrets.includes(value)) state.secrets.push(value);
  };
  let headers = call.headers;
  if (authorization.headers) {
    const merged: Record<string, string> = { ...headers };
    headers = merged;
    for (const [name, value] of Object.entries(authorization.headers)) {
      merged[name.toLowerCase()] = value;
      remember(value);
      // "Bearer abc": the token alone may be echoed back by an upstream, so it is a secret too.
      const space = value.indexOf(' ');
      if (space > 0) remember(value.slice(space + 1));
    }
  }
  let url = call.url;
  if (authorization.query) {
    url = new URL(url);
    for (const [name, value] of Object.entries(authorization.query)) {
      url.searchParams.set(name, value);
      if (!state.secretParams.includes(name)) state.secretParams.push(name);
      remember(value);
    }
  }
  for (const secret of provider.secrets?.() ?? []) remember(secret);
  return { ...call, headers, url };
}
