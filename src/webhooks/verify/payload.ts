import { createHash } from 'node:crypto';
import { MAX_JSON_DEPTH, nestsDeeperThan } from '../../core/json-depth.js';
import { bodyText } from './raw-body.js';
import { badPayload } from './rejection.js';

/** Parses a JSON body (strict UTF-8). Empty or malformed bodies are a payload error, never a throw. */
export function parseJson(bytes: Buffer): unknown {
  if (bytes.length === 0) throw badPayload('body is empty');
  return parseJsonText(bodyText(bytes), 'body');
}

/** Parses JSON text (a body, or a form field holding JSON); `what` names it in the reason. */
export function parseJsonText(text: string, what: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badPayload(`${what} is not valid JSON`);
  }
  if (nestsDeeperThan(value)) throw badPayload(`JSON nests deeper than ${MAX_JSON_DEPTH} levels`);
  return value;
}

/** Parses `application/x-www-form-urlencoded` into a record (last value wins, as Slack documents). */
export function parseForm(bytes: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(bodyText(bytes))) out[k] = v;
  return out;
}

export function isFormBody(contentType: string | undefined, bytes: Buffer): boolean {
  if (contentType) return /^application\/x-www-form-urlencoded\b/i.test(contentType);
  // Without a content type, a body that cannot be JSON but looks like `a=b&c=d` is taken as a form.
  const first = bytes[0];
  return first !== undefined && first !== 0x7b && first !== 0x5b && bytes.includes(0x3d);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** JSON with object keys sorted at every level: the same notification always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isRecord(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Follows a dotted path through own properties (`data.object.kind`); `undefined` when any step is missing. */
export function valueAtPath(value: unknown, path: string): unknown {
  let current = value;
  for (const step of path.split('.')) {
    if (Array.isArray(current) && /^(0|[1-9][0-9]*)$/.test(step)) {
      current = current[Number(step)];
    } else if (isRecord(current) && Object.hasOwn(current, step)) {
      current = current[step];
    } else {
      return undefined;
    }
  }
  return current;
}

const TYPE_CHARS = /[^A-Za-z0-9_.:-]/g;

/**
 * Fits a sender's event type to the event log's grammar (`[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}`): other
 * characters become `_`, leading punctuation is dropped, the length is capped. Empty → `unknown`.
 */
export function normalizeType(raw: string): string {
  const cleaned = raw
    .replace(TYPE_CHARS, '_')
    .replace(/^[^A-Za-z0-9]+/, '')
    .slice(0, 200);
  return cleaned === '' ? 'unknown' : cleaned;
}

/** An id made from content, for senders that give none: `sha256:<hex>`. */
export function contentId(data: string | Buffer): string {
  return `sha256:${sha256Hex(data)}`;
}

const MAX_EXTERNAL_ID = 255;

/** Keeps external ids bounded: a longer one is replaced by its SHA-256 (still stable, still unique). */
export function normalizeExternalId(raw: string): string {
  return raw.length <= MAX_EXTERNAL_ID ? raw : contentId(raw);
}
