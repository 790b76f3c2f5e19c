import { z } from 'zod';
import type { HttpRequest } from '../../http/http-types.js';

const ACCEPT = { accept: 'application/json' };

export const templateVersionSchema = z
  .object({
    id: z.string(),
    template_id: z.string(),
    active: z.union([z.literal(0), z.literal(1)]),
    name: z.string(),
    subject: z.string().optional(),
    html_content: z.string().optional(),
    plain_content: z.string().optional(),
    updated_at: z.string().optional(),
  })
  .loose();

export const templateSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    generation: z.enum(['legacy', 'dynamic']),
    updated_at: z.string().optional(),
    versions: z.array(templateVersionSchema).default([]),
  })
  .loose();

export type Template = z.output<typeof templateSchema>;
export type TemplateVersion = z.output<typeof templateVersionSchema>;

const pageSchema = z.object({
  result: z.array(templateSchema),
  _metadata: z.object({ next: z.string().optional(), count: z.number().optional() }).loose().optional(),
});

export interface NewTemplateVersion {
  name: string;
  subject: string;
  html_content?: string;
  plain_content?: string;
  /** Makes it the version sends use (one active version per template). Defaults to true. */
  active?: boolean;
}

/**
 * Transactional templates (`/v3/templates`): dynamic ones (`d-…` ids, handlebars) are what `template_id`
 * plus `dynamic_template_data` send with. https://www.twilio.com/docs/sendgrid/api-reference/transactional-templates
 */
export const templateRequests = {
  create: (name: string, generation: 'legacy' | 'dynamic' = 'dynamic'): HttpRequest<Template> => ({
    method: 'POST',
    path: '/v3/templates',
    headers: ACCEPT,
    body: { name, generation },
    schema: templateSchema,
  }),
  get: (id: string): HttpRequest<Template> => ({
    path: `/v3/templates/${encodeURIComponent(id)}`,
    headers: ACCEPT,
    schema: templateSchema,
  }),
  /** One page; `next` is the token of the following one. */
  page: (options: { generations?: string; pageSize?: number; pageToken?: string } = {}) => ({
    path: '/v3/templates',
    headers: ACCEPT,
    query: {
      generations: options.generations ?? 'dynamic',
      page_size: options.pageSize ?? 100,
      page_token: options.pageToken,
    },
    schema: pageSchema,
  }),
  addVersion: (templateId: string, version: NewTemplateVersion): HttpRequest<TemplateVersion> => ({
    method: 'POST',
    path: `/v3/templates/${encodeURIComponent(templateId)}/versions`,
    headers: ACCEPT,
    body: { ...version, active: version.active === false ? 0 : 1 },
    schema: templateVersionSchema,
  }),
};

/** The page token in `_metadata.next` (a URL carrying `page_token=`). */
export function nextPageToken(next: string | undefined): string | undefined {
  if (!next) return undefined;
  const query = next.includes('?') ? next.slice(next.indexOf('?') + 1) : next;
  return new URLSearchParams(query).get('page_token') ?? undefined;
}
