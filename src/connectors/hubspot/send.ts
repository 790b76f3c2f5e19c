import type { HttpClient } from '../../http/create-http-client.js';
import type { HttpRequest } from '../../http/http-types.js';
import { callError } from './errors.js';

/** Sends one call and hands back its validated body; HubSpot's meaningful 400s become typed errors. */
export type Send = <T>(
  request: HttpRequest<T>,
  options?: { signal?: AbortSignal | undefined; objectType?: string },
) => Promise<T>;

export function sender(client: HttpClient): Send {
  return async (request, options = {}) => {
    try {
      const response = await client.request({
        ...request,
        ...(options.signal && { signal: options.signal }),
      });
      return response.body;
    } catch (error) {
      throw callError(error, options.objectType);
    }
  };
}
