export { type ActivityMessage, sendMessageId } from './activity.js';
export { type SendGridApi, sendgridApi, sendgridConnector } from './connector.js';
export { SENDGRID_API, type SendGridSettings, sendgridDefinition, sendgridRateLimits } from './definition.js';
export { sendgridErrorReader } from './errors.js';
export type { Address, Mail, Personalization, SendResult } from './mail.js';
export {
  OnceOnlyMailer,
  type OnceOnlyMailerOptions,
  type OnceOnlyResult,
  type SendLedger,
} from './once-only-mailer.js';
export type { NewTemplateVersion, Template, TemplateVersion } from './templates.js';
