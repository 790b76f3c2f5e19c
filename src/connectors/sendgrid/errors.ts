import { z } from 'zod';
import { parseJsonBody, type UpstreamErrorReader } from '../../http/upstream-error.js';

const errorBody = z.object({
  errors: z
    .array(
      z
        .object({ message: z.string().optional(), field: z.string().nullish(), help: z.unknown().optional() })
        .loose(),
    )
    .min(1),
});

/**
 * SendGrid's `{"errors":[{"message","field","help"}]}`: every error in the message, each after the
 * field it is about (`from.email: Does not contain a valid address.`), the fields in `details.fields`.
 * The HTTP reason phrase (what `@sendgrid/mail` reports as `.message`) says nothing more than the status.
 */
export const sendgridErrorReader: UpstreamErrorReader = ({ body }) => {
  const parsed = errorBody.safeParse(parseJsonBody(body));
  if (!parsed.success) return undefined;
  const errors = parsed.data.errors;
  const fields = errors.map((e) => e.field).filter((f): f is string => typeof f === 'string' && f !== '');
  return {
    message: errors.map((e) => (e.field ? `${e.field}: ${e.message ?? ''}` : (e.message ?? ''))).join('; '),
    ...(fields.length > 0 && { details: { fields: fields.join(',') } }),
  };
};
