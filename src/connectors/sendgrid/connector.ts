import type { HttpClient } from '../../http/create-http-client.js';
import type { Connector } from '../provider.js';
import { type ActivityMessage, messagesWithArgRequest } from './activity.js';
import { type SendGridSettings, sendgridDefinition } from './definition.js';
import { type Mail, mailSendRequest, processMailSend, type SendResult } from './mail.js';
import {
  type NewTemplateVersion,
  nextPageToken,
  type Template,
  type TemplateVersion,
  templateRequests,
} from './templates.js';

/** SendGrid's typed calls over a connection's client. */
export interface SendGridApi {
  /** Sends one mail (202): what SendGrid answered. Never retried on its own: see `OnceOnlyMailer`. */
  send(mail: Mail, options?: { signal?: AbortSignal }): Promise<SendResult>;
  /** Messages in the Email Activity feed sent with `custom_args[name] = value`. */
  messagesWithArg(
    name: string,
    value: string,
    options?: { signal?: AbortSignal },
  ): Promise<ActivityMessage[]>;
  readonly templates: {
    create(name: string, generation?: 'legacy' | 'dynamic'): Promise<Template>;
    get(id: string): Promise<Template>;
    /** Every template of the generations asked for (`dynamic` by default), page after page. */
    list(options?: { generations?: string }): AsyncIterable<Template>;
    addVersion(templateId: string, version: NewTemplateVersion): Promise<TemplateVersion>;
  };
}

/** Builds the typed calls; each builds its request and validates its answer as separate steps. */
export function sendgridApi(client: HttpClient): SendGridApi {
  return {
    async send(mail, options = {}) {
      return processMailSend(await client.request(mailSendRequest(mail, options.signal)));
    },
    async messagesWithArg(name, value, options = {}) {
      const request = messagesWithArgRequest(name, value);
      return (await client.request({ ...request, ...(options.signal && { signal: options.signal }) })).body
        .messages;
    },
    templates: {
      create: async (name, generation) =>
        (await client.request(templateRequests.create(name, generation))).body,
      get: async (id) => (await client.request(templateRequests.get(id))).body,
      async *list(options = {}) {
        let pageToken: string | undefined;
        do {
          const { body } = await client.request(
            templateRequests.page({ ...options, ...(pageToken && { pageToken }) }),
          );
          yield* body.result;
          pageToken = nextPageToken(body._metadata?.next);
        } while (pageToken);
      },
      addVersion: async (templateId, version) =>
        (await client.request(templateRequests.addVersion(templateId, version))).body,
    },
  };
}

/** SendGrid as a connection gets it: the definition and the typed calls. */
export const sendgridConnector: Connector<SendGridSettings, SendGridApi> = {
  definition: sendgridDefinition,
  api: (client) => sendgridApi(client),
};
