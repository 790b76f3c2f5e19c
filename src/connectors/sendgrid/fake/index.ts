export { parseActivityQuery } from './activity-query.js';
export type { SendGridEvent } from './event-webhook.js';
export {
  type RunningSendGridFake,
  type SendGridFakeOptions,
  sendgridFake,
  startSendGridFake,
} from './sendgrid-fake.js';
