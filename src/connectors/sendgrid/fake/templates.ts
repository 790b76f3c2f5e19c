import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Guard } from './api-guard.js';
import { MESSAGES, sendError } from './sendgrid-errors.js';

export interface TemplateVersion {
  id: string;
  template_id: string;
  active: 0 | 1;
  name: string;
  subject: string;
  html_content: string;
  plain_content: string;
  generate_plain_content: boolean;
  editor: 'code' | 'design';
  updated_at: string;
}

export interface Template {
  id: string;
  name: string;
  generation: 'legacy' | 'dynamic';
  updated_at: string;
  versions: TemplateVersion[];
}

/** SendGrid writes `updated_at` as `YYYY-MM-DD HH:MM:SS`, UTC, without a zone. */
export function sendgridTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Dynamic templates' `{{name}}` / `{{{name}}}` with dotted paths: what the fake renders. */
export function renderHandlebars(text: string, data: Record<string, unknown> | undefined): string {
  return text.replace(/\{\{\{?\s*([\w.]+)\s*\}?\}\}/g, (_, path: string) => {
    let value: unknown = data;
    for (const step of path.split('.')) {
      value =
        typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[step] : undefined;
    }
    return value === undefined || value === null ? '' : String(value);
  });
}

export class TemplateStore {
  readonly templates = new Map<string, Template>();

  constructor(private readonly now: () => number) {}

  create(name: string, generation: Template['generation']): Template {
    const id = generation === 'dynamic' ? `d-${randomBytes(16).toString('hex')}` : randomUUID();
    const template: Template = { id, name, generation, updated_at: sendgridTime(this.now()), versions: [] };
    this.templates.set(id, template);
    return template;
  }

  addVersion(template: Template, input: Partial<TemplateVersion>): TemplateVersion {
    const version: TemplateVersion = {
      id: randomUUID(),
      template_id: template.id,
      active: input.active === 0 ? 0 : 1,
      name: input.name ?? 'Version',
      subject: input.subject ?? '',
      html_content: input.html_content ?? '',
      plain_content: input.plain_content ?? '',
      generate_plain_content: input.generate_plain_content ?? true,
      editor: input.editor === 'design' ? 'design' : 'code',
      updated_at: sendgridTime(this.now()),
    };
    if (version.active === 1) for (const v of template.versions) v.active = 0;
    template.versions.push(version);
    template.updated_at = version.updated_at;
    return version;
  }

  /** The version a send with this template uses: the active one. */
  active(id: string): TemplateVersion | undefined {
    return this.templates.get(id)?.versions.find((v) => v.active === 1);
  }

  clear(): void {
    this.templates.clear();
  }
}

type Body = Record<string, unknown>;
const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `/v3/templates` and its versions: create, list (paged with `page_size` and `page_token`), read,
 * rename, delete; versions created, changed, activated (one active version per template).
 * https://www.twilio.com/docs/sendgrid/api-reference/transactional-templates
 */
export function templateRoutes(app: FastifyInstance, store: TemplateStore, guard: (scope: string) => Guard) {
  const find = (request: FastifyRequest, reply: FastifyReply): Template | undefined => {
    const template = store.templates.get((request.params as { id: string }).id);
    if (!template) sendError(reply, 404, MESSAGES.notFound);
    return template;
  };
  const body = (request: FastifyRequest, reply: FastifyReply): Body | undefined => {
    if (!isObject(request.body) || Buffer.isBuffer(request.body)) {
      sendError(reply, 400, MESSAGES.badRequest);
      return undefined;
    }
    return request.body;
  };

  app.post('/v3/templates', async (request, reply) => {
    if (!guard('templates.create')(request, reply)) return reply;
    const input = body(request, reply);
    if (!input) return reply;
    if (typeof input.name !== 'string' || input.name === '' || input.name.length > 100) {
      return sendError(reply, 400, 'name is required and must be at most 100 characters', 'name');
    }
    const generation = input.generation ?? 'legacy';
    if (generation !== 'legacy' && generation !== 'dynamic') {
      return sendError(reply, 400, 'generation must be legacy or dynamic', 'generation');
    }
    return reply.status(201).send(store.create(input.name, generation));
  });

  app.get('/v3/templates', async (request, reply) => {
    if (!guard('templates.read')(request, reply)) return reply;
    const query = request.query as { generations?: string; page_size?: string; page_token?: string };
    const generations = (query.generations ?? 'legacy').split(',');
    if (generations.some((g) => g !== 'legacy' && g !== 'dynamic')) {
      return sendError(reply, 400, 'generations must be legacy, dynamic or both', 'generations');
    }
    const all = [...store.templates.values()].filter((t) => generations.includes(t.generation));
    const summary = (t: Template) => ({
      ...t,
      versions: t.versions.map(({ html_content: _h, plain_content: _p, ...v }) => v),
    });
    if (query.page_size === undefined) return { templates: all.map(summary) };
    const size = Number(query.page_size);
    if (!Number.isInteger(size) || size < 1 || size > 200) {
      return sendError(reply, 400, 'page_size must be between 1 and 200', 'page_size');
    }
    const start = query.page_token ? all.findIndex((t) => t.id === query.page_token) : 0;
    if (start < 0) return sendError(reply, 400, 'invalid page_token', 'page_token');
    const page = all.slice(start, start + size);
    const nextToken = all[start + size]?.id;
    const self = `/v3/templates?generations=${generations.join(',')}&page_size=${size}`;
    return {
      result: page.map(summary),
      _metadata: {
        self: `${self}${query.page_token ? `&page_token=${query.page_token}` : ''}`,
        ...(nextToken && { next: `${self}&page_token=${nextToken}` }),
        count: all.length,
      },
    };
  });

  app.get('/v3/templates/:id', async (request, reply) => {
    if (!guard('templates.read')(request, reply)) return reply;
    return find(request, reply) ?? reply;
  });

  app.patch('/v3/templates/:id', async (request, reply) => {
    if (!guard('templates.update')(request, reply)) return reply;
    const template = find(request, reply);
    const input = template && body(request, reply);
    if (!template || !input) return reply;
    if (typeof input.name !== 'string' || input.name === '' || input.name.length > 100) {
      return sendError(reply, 400, 'name is required and must be at most 100 characters', 'name');
    }
    template.name = input.name;
    return template;
  });

  app.delete('/v3/templates/:id', async (request, reply) => {
    if (!guard('templates.delete')(request, reply)) return reply;
    const template = find(request, reply);
    if (!template) return reply;
    store.templates.delete(template.id);
    return reply.status(204).send();
  });

  app.post('/v3/templates/:id/versions', async (request, reply) => {
    if (!guard('templates.versions.create')(request, reply)) return reply;
    const template = find(request, reply);
    const input = template && body(request, reply);
    if (!template || !input) return reply;
    if (typeof input.name !== 'string' || input.name === '')
      return sendError(reply, 400, 'name is required', 'name');
    if (typeof input.subject !== 'string' || input.subject === '') {
      return sendError(reply, 400, 'subject is required', 'subject');
    }
    if (input.active !== undefined && input.active !== 0 && input.active !== 1) {
      return sendError(reply, 400, 'active must be 0 or 1', 'active');
    }
    return reply.status(201).send(store.addVersion(template, input as Partial<TemplateVersion>));
  });

  app.post('/v3/templates/:id/versions/:version/activate', async (request, reply) => {
    if (!guard('templates.versions.activate.create')(request, reply)) return reply;
    const template = find(request, reply);
    if (!template) return reply;
    const version = template.versions.find((v) => v.id === (request.params as { version: string }).version);
    if (!version) return sendError(reply, 404, MESSAGES.notFound);
    for (const v of template.versions) v.active = v === version ? 1 : 0;
    return version;
  });
}
