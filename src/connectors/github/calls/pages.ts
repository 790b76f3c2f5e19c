import { ErrorCode, PatchbayError } from '../../../core/errors.js';
import type { HttpClient } from '../../../http/create-http-client.js';
import type { HttpRequest, HttpResponse, ResponseSchema } from '../../../http/http-types.js';
import { paginatePages } from '../../../http/paginate.js';

export interface GitHubPage<T> {
  items: T[];
  /** The `rel="next"` link, when there is a next page (absolute, on the API's origin). */
  next: string | undefined;
  response: HttpResponse;
}

/**
 * Every page of a list, following GitHub's `link` header as it is (page numbers, cursors or `since`
 * — never built by hand), each item validated.
 */
export async function* githubPages<T>(
  client: HttpClient,
  request: HttpRequest,
  item: ResponseSchema<T>,
): AsyncGenerator<GitHubPage<T>> {
  for await (const page of paginatePages<unknown>(client, request, { kind: 'link' })) {
    yield {
      items: page.items.map((raw, index) => valid(item, raw, index, request.path)),
      next: nextOf(page.response),
      response: page.response,
    };
  }
}

/** One answer's body, validated: a single object, or each item of a list. */
export function valid<T>(
  schema: ResponseSchema<T>,
  raw: unknown,
  index: number | undefined,
  path: string,
): T {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`)
    .join('; ');
  const where = index === undefined ? '' : ` item ${index}`;
  throw new PatchbayError(
    ErrorCode.RESPONSE_INVALID,
    `GitHub ${path}${where} is not what Patchbay expects: ${issues}`,
  );
}

function nextOf(response: HttpResponse): string | undefined {
  const match = /<([^>]+)>;\s*rel="next"/.exec(response.headers.link ?? '');
  return match?.[1];
}
