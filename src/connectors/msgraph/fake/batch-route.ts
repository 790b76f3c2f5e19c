import type { FastifyInstance } from 'fastify';
import { badRequest } from './graph-errors.js';
import { type GraphRequest, type GraphRoute, json } from './graph-route.js';
import { ORIGIN_HEADER } from './graph-router.js';
import { jsonBody } from './request-parts.js';

/** G7: at most 20 requests a batch; Outlook runs at most 4 of them at a time. */
export const MAX_BATCH = 20;
const PARALLEL = 4;

interface SubRequest {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  dependsOn: string[];
}

interface SubResponse {
  id: string;
  status: number;
  headers: Record<string, string>;
  body?: unknown;
}

/** Sub-response headers, in Graph's casing: the JS SDK reads `headers["Content-Type"]` to decide to parse JSON. */
const KEPT_HEADERS: Record<string, string> = {
  'content-type': 'Content-Type',
  'retry-after': 'Retry-After',
  location: 'Location',
  'preference-applied': 'Preference-Applied',
  'odata-version': 'OData-Version',
};

/**
 * `POST /v1.0/$batch` (G7): each sub-request runs through the same routes as on its own, so it is
 * authenticated, throttled and faulted on its own — a throttled one shows `status: 429` and its own
 * `Retry-After` inside an outer 200 that no SDK retries. A request whose `dependsOn` target failed gets
 * 424 without running. Answers come in no particular order (here: the reverse of completion).
 */
export function batchRoute(app: FastifyInstance): GraphRoute {
  return {
    method: 'POST',
    pattern: '$batch',
    access: 'none',
    async handle(request) {
      const requests = parseBatch(request);
      const results = new Map<string, SubResponse>();
      const order: SubResponse[] = [];
      const pending = [...requests];
      const running = new Set<Promise<void>>();
      while (pending.length > 0 || running.size > 0) {
        for (let i = 0; i < pending.length && running.size < PARALLEL; ) {
          const sub = pending[i]!;
          if (!sub.dependsOn.every((dep) => results.has(dep))) {
            i++;
            continue;
          }
          pending.splice(i, 1);
          const failed = sub.dependsOn.find((dep) => results.get(dep)!.status >= 400);
          if (failed !== undefined) {
            const answer = failedDependency(sub.id, failed);
            results.set(sub.id, answer);
            order.push(answer);
            continue;
          }
          const task = run(app, request, sub).then((answer) => {
            results.set(sub.id, answer);
            order.push(answer);
            running.delete(task);
          });
          running.add(task);
        }
        if (running.size > 0) await Promise.race(running);
        else if (pending.length > 0) break; // unreachable: dependencies were checked to exist and precede
      }
      return json({ responses: order.reverse() });
    },
  };
}

function parseBatch(request: GraphRequest): SubRequest[] {
  const { requests } = jsonBody(request);
  if (!Array.isArray(requests) || requests.length === 0) throw badRequest('Invalid batch payload format.');
  if (requests.length > MAX_BATCH) throw badRequest('Number of requests inside batch exceeds the limit.');
  const seen = new Set<string>();
  return requests.map((raw, index) => {
    const r = raw as Record<string, unknown> | null;
    if (!r || typeof r !== 'object' || typeof r.id !== 'string' || r.id === '') {
      throw badRequest(`Request at index ${index} has no id.`);
    }
    if (seen.has(r.id)) throw badRequest(`Batch request contains duplicate id '${r.id}'.`);
    if (typeof r.method !== 'string' || typeof r.url !== 'string') {
      throw badRequest(`Request id : ${r.id} needs a method and a url.`);
    }
    const dependsOn = r.dependsOn === undefined ? [] : r.dependsOn;
    if (!Array.isArray(dependsOn) || dependsOn.some((d) => typeof d !== 'string' || !seen.has(d))) {
      throw badRequest(`Request id : ${r.id} depends on a request that is not before it in the batch.`);
    }
    seen.add(r.id);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries((r.headers ?? {}) as Record<string, unknown>))
      headers[k.toLowerCase()] = String(v);
    return {
      id: r.id,
      method: r.method.toUpperCase(),
      url: r.url,
      headers,
      body: r.body,
      dependsOn: dependsOn as string[],
    };
  });
}

async function run(app: FastifyInstance, outer: GraphRequest, sub: SubRequest): Promise<SubResponse> {
  if (/^https?:/i.test(sub.url)) {
    return errorAnswer(sub.id, 400, 'BadRequest', 'Batch request urls must be relative to the service root.');
  }
  if (sub.body !== undefined && sub.headers['content-type'] === undefined) {
    return errorAnswer(
      sub.id,
      400,
      'BadRequest',
      `Write request id : ${sub.id} does not contain Content-Type header or body.`,
    );
  }
  const payload =
    sub.body === undefined
      ? undefined
      : typeof sub.body === 'string' && !/json/i.test(sub.headers['content-type'] ?? '')
        ? Buffer.from(sub.body, 'base64')
        : JSON.stringify(sub.body);
  const response = await app.inject({
    method: sub.method as 'GET',
    url: `/v1.0/${sub.url.replace(/^\//, '').replace(/^v1\.0\//, '')}`,
    headers: {
      ...sub.headers,
      authorization: String(outer.headers.authorization ?? ''),
      host: String(outer.headers.host ?? '127.0.0.1'),
      [ORIGIN_HEADER]: outer.origin,
    },
    ...(payload !== undefined && { payload }),
  });
  const headers: Record<string, string> = {};
  for (const [name, cased] of Object.entries(KEPT_HEADERS)) {
    const value = response.headers[name];
    if (value !== undefined) headers[cased] = String(value);
  }
  const answer: SubResponse = { id: sub.id, status: response.statusCode, headers };
  if (response.rawPayload.length > 0) {
    answer.body = /json/i.test(String(response.headers['content-type'] ?? ''))
      ? JSON.parse(response.rawPayload.toString('utf8'))
      : response.rawPayload.toString('base64');
  }
  return answer;
}

function failedDependency(id: string, failed: string): SubResponse {
  return errorAnswer(id, 424, 'FailedDependency', `The request depends on request ${failed}, which failed.`);
}

function errorAnswer(id: string, status: number, code: string, message: string): SubResponse {
  return { id, status, headers: { 'Content-Type': 'application/json' }, body: { error: { code, message } } };
}
