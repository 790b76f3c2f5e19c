import { ErrorCode, PatchbayError } from '../../core/errors.js';

export const BODY = Symbol('body');
export const TIMESTAMP = Symbol('timestamp');
export const ID = Symbol('id');

/** Splits a signed-content template into literals and markers; `{body}` must appear exactly once. */
export function compileTemplate(template: string): Array<string | symbol> {
  const out: Array<string | symbol> = [];
  const re = /\{(body|timestamp|id)\}/g;
  let last = 0;
  for (let m = re.exec(template); m !== null; m = re.exec(template)) {
    if (m.index > last) out.push(template.slice(last, m.index));
    out.push(m[1] === 'body' ? BODY : m[1] === 'timestamp' ? TIMESTAMP : ID);
    last = m.index + m[0].length;
  }
  if (last < template.length) out.push(template.slice(last));
  const bodies = out.filter((p) => p === BODY).length;
  if (bodies !== 1) {
    throw new PatchbayError(
      ErrorCode.INVALID_ARGUMENT,
      `options.signedContent must contain {body} exactly once, got ${JSON.stringify(template)}`,
    );
  }
  return out;
}
