import { mailError, type SendGridError } from './sendgrid-errors.js';

/** One recipient of an accepted mail, with what SendGrid echoes about it in events. */
export interface Recipient {
  email: string;
  kind: 'to' | 'cc' | 'bcc';
  personalization: number;
  subject: string | undefined;
  /** Message-level `custom_args` overlaid with the personalization's own. */
  customArgs: Record<string, string>;
  templateData: Record<string, unknown> | undefined;
}

/** What the fake keeps of a valid `POST /v3/mail/send` body. */
export interface ValidMail {
  from: string;
  subject: string | undefined;
  templateId: string | undefined;
  categories: string[];
  sandbox: boolean;
  /** Unix seconds; undefined to send now. */
  sendAt: number | undefined;
  recipients: Recipient[];
  content: { type: string; value: string }[];
}

const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS = 1000;
const MAX_CATEGORIES = 10;
/** SendGrid limits custom args to 10,000 bytes per message. */
const MAX_CUSTOM_ARGS_BYTES = 10_000;
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:"]+$/;
const TEMPLATE_ID = /^(d-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

type Body = Record<string, unknown>;
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Checks a mail-send body as SendGrid does and answers every problem at once (SendGrid lists them all
 * in one 400), each with the field path SendGrid names (`personalizations.0.to.0.email`).
 * https://www.twilio.com/docs/sendgrid/api-reference/mail-send/errors
 */
export function validateMail(
  body: unknown,
  templateExists: (id: string) => boolean,
): { errors: SendGridError[]; mail?: ValidMail } {
  const errors: SendGridError[] = [];
  if (!isObject(body)) {
    return { errors: [mailError('The request body must be a JSON object.', null, 'message')] };
  }
  const from = addressOf(body.from);
  if (from === undefined) {
    errors.push(
      mailError(
        'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
        'from.email',
        'message.from',
      ),
    );
  } else if (!EMAIL.test(from)) {
    errors.push(mailError('The from email does not contain a valid address.', 'from.email', 'message.from'));
  }

  const templateId = typeof body.template_id === 'string' ? body.template_id : undefined;
  if (body.template_id !== undefined) {
    if (templateId === undefined || !TEMPLATE_ID.test(templateId)) {
      errors.push(
        mailError(
          `The template_id must be a valid GUID, you provided '${String(body.template_id)}'.`,
          'template_id',
          'message.template_id',
        ),
      );
    } else if (!templateExists(templateId)) {
      errors.push(
        mailError('The template_id is not a valid template ID.', 'template_id', 'message.template_id'),
      );
    }
  }

  const messageArgs = customArgs(body.custom_args, 'custom_args', errors);
  const recipients = personalizations(body.personalizations, messageArgs, errors);
  const subject = typeof body.subject === 'string' && body.subject !== '' ? body.subject : undefined;
  const everyHasSubject =
    recipients.length > 0 && recipients.every((r) => r.subject !== undefined && r.subject !== '');
  if (subject === undefined && templateId === undefined && !everyHasSubject) {
    errors.push(
      mailError(
        'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
        'subject',
        'message.subject',
      ),
    );
  }
  const content = contentOf(body.content, templateId !== undefined, errors);
  const categories = categoriesOf(body.categories, errors);
  const sendAt = typeof body.send_at === 'number' && body.send_at > 0 ? body.send_at : undefined;
  const sandbox =
    isObject(body.mail_settings) &&
    isObject(body.mail_settings.sandbox_mode) &&
    body.mail_settings.sandbox_mode.enable === true;
  if (errors.length > 0 || from === undefined) return { errors };
  return {
    errors,
    mail: { from, subject, templateId, categories, sandbox, sendAt, recipients, content },
  };
}

function addressOf(value: unknown): string | undefined {
  if (!isObject(value) || typeof value.email !== 'string' || value.email === '') return undefined;
  return value.email;
}

function personalizations(value: unknown, messageArgs: Record<string, string>, errors: SendGridError[]) {
  const recipients: Recipient[] = [];
  if (!Array.isArray(value) || value.length === 0) {
    errors.push(
      mailError(
        'The personalizations field is required and must have at least one personalization.',
        'personalizations',
        '-Personalizations-Errors',
      ),
    );
    return recipients;
  }
  if (value.length > MAX_PERSONALIZATIONS) {
    errors.push(
      mailError(
        `The personalizations field cannot have more than ${MAX_PERSONALIZATIONS} personalization objects.`,
        'personalizations',
        '-Personalizations-Errors',
      ),
    );
    return recipients;
  }
  value.forEach((p, i) => {
    const at = `personalizations.${i}`;
    if (!isObject(p)) {
      errors.push(mailError('A personalization must be an object.', at, '-Personalizations-Errors'));
      return;
    }
    const subject = typeof p.subject === 'string' ? p.subject : undefined;
    const args = { ...messageArgs, ...customArgs(p.custom_args, `${at}.custom_args`, errors) };
    const templateData = isObject(p.dynamic_template_data) ? p.dynamic_template_data : undefined;
    if (!Array.isArray(p.to) || p.to.length === 0) {
      errors.push(
        mailError(
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          `${at}.to`,
          'message.personalizations.to',
        ),
      );
    }
    const seen = new Set<string>();
    for (const kind of ['to', 'cc', 'bcc'] as const) {
      const list = p[kind];
      if (list === undefined || !Array.isArray(list)) continue;
      list.forEach((entry, j) => {
        const email = addressOf(entry);
        if (email === undefined || !EMAIL.test(email)) {
          errors.push(
            mailError(
              'Does not contain a valid address.',
              `${at}.${kind}.${j}.email`,
              'message.personalizations',
            ),
          );
          return;
        }
        const key = email.toLowerCase();
        if (seen.has(key)) {
          errors.push(
            mailError(
              `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${email}] in the ${at}.${kind} field.`,
              `${at}.${kind}`,
              'message.recipient_errors',
            ),
          );
          return;
        }
        seen.add(key);
        recipients.push({ email, kind, personalization: i, subject, customArgs: args, templateData });
      });
    }
  });
  if (recipients.length > MAX_RECIPIENTS) {
    errors.push(
      mailError(
        `The total number of recipients must be less than ${MAX_RECIPIENTS}. This includes all recipients defined within the to, cc, and bcc parameters, across each object that you include in the personalizations array.`,
        'personalizations',
        'message.personalizations',
      ),
    );
  }
  return recipients;
}

/** `custom_args` take strings only: SendGrid refuses a number where its docs say string. */
function customArgs(value: unknown, at: string, errors: SendGridError[]): Record<string, string> {
  if (value === undefined) return {};
  if (!isObject(value)) {
    errors.push(mailError('custom_args must be an object of strings.', at, 'message.custom_args'));
    return {};
  }
  const out: Record<string, string> = {};
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      const given =
        typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : v === null ? 'null' : typeof v;
      errors.push(
        mailError(`Invalid type. Expected: string, given: ${given}.`, `${at}.${key}`, 'message.custom_args'),
      );
      continue;
    }
    out[key] = v;
  }
  if (Buffer.byteLength(JSON.stringify(out)) > MAX_CUSTOM_ARGS_BYTES) {
    errors.push(
      mailError(`custom_args may not exceed ${MAX_CUSTOM_ARGS_BYTES} bytes.`, at, 'message.custom_args'),
    );
  }
  return out;
}

function contentOf(value: unknown, hasTemplate: boolean, errors: SendGridError[]) {
  const content: { type: string; value: string }[] = [];
  if (value === undefined || (Array.isArray(value) && value.length === 0)) {
    if (!hasTemplate) {
      errors.push(
        mailError(
          'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
          'content',
          'message.content',
        ),
      );
    }
    return content;
  }
  if (!Array.isArray(value)) {
    errors.push(mailError('The content parameter must be an array.', 'content', 'message.content'));
    return content;
  }
  value.forEach((block, i) => {
    if (!isObject(block) || typeof block.type !== 'string' || block.type === '') {
      errors.push(
        mailError(
          'The content type must be a string at least one character in length.',
          `content.${i}.type`,
          'message.content.type',
        ),
      );
    } else if (typeof block.value !== 'string' || block.value === '') {
      errors.push(
        mailError(
          'The content value must be a string at least one character in length.',
          `content.${i}.value`,
          'message.content.value',
        ),
      );
    } else {
      content.push({ type: block.type, value: block.value });
    }
  });
  const types = content.map((c) => c.type.toLowerCase());
  const plain = types.indexOf('text/plain');
  const html = types.indexOf('text/html');
  if (plain > 0 || (html >= 0 && html !== (plain === 0 ? 1 : 0))) {
    errors.push(
      mailError(
        'If present, text/plain must be first, followed by text/html, followed by any other content.',
        'content',
        'message.content',
      ),
    );
  }
  return content;
}

function categoriesOf(value: unknown, errors: SendGridError[]): string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((c) => typeof c !== 'string' || c.length > 255)) {
    errors.push(
      mailError(
        'Categories must be an array of strings of at most 255 characters.',
        'categories',
        'message.categories',
      ),
    );
    return [];
  }
  if (value.length > MAX_CATEGORIES) {
    errors.push(
      mailError(
        `Too many categories on this message. The maximum number of categories is ${MAX_CATEGORIES}.`,
        'categories',
        'message.categories',
      ),
    );
  }
  return value as string[];
}
