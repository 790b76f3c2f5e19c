import { ErrorCode, errorMessage, PatchbayError } from '../../core/errors.js';
import { valueAt } from '../define-sync.js';

export type BodyFormat = 'json' | 'xml' | 'csv';

/** The XML and CSV parsers (some fifty modules), loaded by the first page in that format. */
let parsers: Promise<{ xml: (text: string) => unknown; csv: (text: string) => unknown }> | undefined;
function loadParsers(): NonNullable<typeof parsers> {
  parsers ??= Promise.all([import('fast-xml-parser'), import('csv-parse/sync')]).then(
    ([{ XMLParser }, { parse }]) => {
      const xml = new XMLParser({
        ignoreAttributes: false,
        attributeNamePrefix: '@',
        parseTagValue: false,
        trimValues: true,
      });
      return {
        xml: (text) => xml.parse(text, true),
        csv: (text) =>
          parse(text, { columns: true, skip_empty_lines: true, bom: true, relax_column_count: false }),
      };
    },
  );
  return parsers;
}

/** The response body as a value: JSON as the client parsed it, XML and CSV parsed here. */
export async function parseBody(
  body: unknown,
  contentType: string | undefined,
  format: BodyFormat | undefined,
  where: string,
): Promise<unknown> {
  const kind = format ?? formatOf(contentType);
  if (kind === 'json') {
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      try {
        return JSON.parse(String(body));
      } catch (err) {
        throw invalid(`${where}: the body is not JSON (${errorMessage(err)})`);
      }
    }
    return body;
  }
  const text = Buffer.isBuffer(body)
    ? body.toString('utf8')
    : typeof body === 'string'
      ? body
      : JSON.stringify(body);
  const parse = await loadParsers();
  try {
    return kind === 'xml' ? parse.xml(text) : parse.csv(text);
  } catch (err) {
    throw invalid(`${where}: the body is not valid ${kind.toUpperCase()} (${errorMessage(err)})`);
  }
}

/**
 * The records of a parsed page. A path that finds nothing is an error naming the config path (an empty
 * list at that path is an empty page): a typo must not read as "no records". XML elements that occur
 * once come back as one object, and are a list of one here.
 */
export function recordsAt(parsed: unknown, path: string | undefined, where: string): unknown[] {
  const value = path === undefined ? parsed : valueAt(parsed, path);
  // An explicit null, or XML's empty element (`<data/>` parses to ""), is an empty page.
  if (value === null || (value === undefined && path !== undefined && emptyParent(parsed, path))) return [];
  if (value === undefined) {
    const keys =
      typeof parsed === 'object' && parsed !== null
        ? Object.keys(parsed).slice(0, 10).join(', ')
        : typeof parsed;
    throw new PatchbayError(
      ErrorCode.CONFIG_INVALID,
      `${where}: "${path ?? '(body)'}" found nothing in the response (its top level has: ${keys || 'nothing'})`,
    );
  }
  if (Array.isArray(value)) return value;
  if (typeof value === 'object') return [value];
  throw new PatchbayError(
    ErrorCode.CONFIG_INVALID,
    `${where}: "${path}" is a ${typeof value}, not a list of records`,
  );
}

function emptyParent(parsed: unknown, path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot > 0 && valueAt(parsed, path.slice(0, dot)) === '';
}

function formatOf(contentType: string | undefined): BodyFormat {
  if (contentType && /[/+]xml\b/i.test(contentType)) return 'xml';
  if (contentType && /\bcsv\b/i.test(contentType)) return 'csv';
  return 'json';
}

function invalid(message: string): PatchbayError {
  return new PatchbayError(ErrorCode.RESPONSE_INVALID, message);
}
