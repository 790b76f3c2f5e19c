import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { compileTemplate, ID, TIMESTAMP } from './signed-content.js';
import type { WebhookEncoding, WebhookSchemeOptions } from './types.js';

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export interface GenericConfig {
  header: string;
  encoding: WebhookEncoding;
  prefix: string;
  timestampHeader: string | undefined;
  timestampUnit: 'seconds' | 'milliseconds';
  idHeader: string;
  usesId: boolean;
  template: Array<string | symbol>;
}

function fail(message: string): never {
  throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, message);
}

function headerOption(value: unknown, option: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || !HEADER_NAME.test(value)) {
    fail(`options.${option} must be a header name, got ${JSON.stringify(value)}`);
  }
  return value.toLowerCase();
}

/** Validates the `hmac-sha256` options eagerly, naming the option and the value received. */
export function generic(options: WebhookSchemeOptions): GenericConfig {
  const header = headerOption(options.header, 'header');
  if (header === undefined) fail('scheme "hmac-sha256" needs options.header (the signature header)');
  const encoding = options.encoding ?? 'hex';
  if (encoding !== 'hex' && encoding !== 'base64') {
    fail(`options.encoding must be "hex" or "base64", got ${JSON.stringify(encoding)}`);
  }
  const prefix = options.prefix ?? '';
  if (typeof prefix !== 'string') fail(`options.prefix must be a string, got ${JSON.stringify(prefix)}`);
  const timestampHeader = headerOption(options.timestampHeader, 'timestampHeader');
  const timestampUnit = options.timestampUnit ?? 'seconds';
  if (timestampUnit !== 'seconds' && timestampUnit !== 'milliseconds') {
    fail(`options.timestampUnit must be "seconds" or "milliseconds", got ${JSON.stringify(timestampUnit)}`);
  }
  const idHeader = headerOption(options.idHeader, 'idHeader') ?? 'webhook-id';
  const templateText = options.signedContent ?? (timestampHeader ? '{timestamp}.{body}' : '{body}');
  if (typeof templateText !== 'string') {
    fail(`options.signedContent must be a string, got ${JSON.stringify(templateText)}`);
  }
  const template = compileTemplate(templateText);
  if (template.includes(TIMESTAMP) && !timestampHeader) {
    fail('options.signedContent uses {timestamp}: set options.timestampHeader');
  }
  if (timestampHeader && !template.includes(TIMESTAMP)) {
    // A window on a timestamp nobody signed would only look like replay protection.
    fail('options.timestampHeader is set but options.signedContent does not sign {timestamp}');
  }
  return {
    header,
    encoding,
    prefix,
    timestampHeader,
    timestampUnit,
    idHeader,
    usesId: template.includes(ID),
    template,
  };
}
