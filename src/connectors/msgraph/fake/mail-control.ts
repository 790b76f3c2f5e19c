import type { DeltaStates } from './delta-states.js';
import type { Directory, NewUser } from './directory.js';
import type { FakeMessage, MessageFields } from './mail-types.js';
import type { Mailbox } from './mailbox.js';
import { buildMessage, generatedMessages, type MessageInput, recipient } from './message-factory.js';
import { renderMessage } from './message-view.js';
import { LIFECYCLE_EVENTS, type LifecycleEvent, type SubscriptionRegistry } from './subscriptions.js';

/** Thrown for control-plane input that names nothing or is malformed; answered 400/404 with the message. */
export class ControlError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 = 400,
  ) {
    super(message);
  }
}

/** A message change a test makes, in Graph's property names. */
export interface MessageChanges {
  subject?: string;
  body?: string | MessageFields['body'];
  isRead?: boolean;
  importance?: MessageFields['importance'];
  categories?: string[];
  flag?: MessageFields['flag'];
  from?: string;
}

/**
 * What tests do to the fake's mail besides calling Graph: mail arriving, changing, moving and going away
 * (each one a change that delta reports and subscriptions notify), sync states expiring, lifecycle events.
 * The HTTP control plane (`/_fake/…`) and in-process tests use the same methods.
 */
export class MailControl {
  constructor(
    private readonly directory: Directory,
    private readonly states: DeltaStates,
    private readonly subscriptions: SubscriptionRegistry,
    private readonly now: () => number,
  ) {}

  mailboxes(): Mailbox[] {
    return this.directory.all();
  }

  mailbox(user: string): Mailbox {
    const mailbox = this.directory.user(user);
    if (!mailbox) throw new ControlError(`no user ${JSON.stringify(user)} in the fake's tenant`, 404);
    return mailbox;
  }

  addUser(input: NewUser): Mailbox {
    if (typeof input?.displayName !== 'string' || input.displayName.trim() === '') {
      throw new ControlError('a user needs a displayName');
    }
    try {
      return this.directory.addUser(input);
    } catch (err) {
      throw new ControlError((err as Error).message);
    }
  }

  /** Delivers messages into a folder (Inbox by default): one described, several, or `count` generated ones. */
  deliver(
    user: string,
    input: { folder?: string; message?: MessageInput; messages?: MessageInput[]; count?: number },
  ): FakeMessage[] {
    const mailbox = this.mailbox(user);
    const folder = mailbox.folder(input.folder ?? 'inbox');
    if (!folder)
      throw new ControlError(`no folder ${JSON.stringify(input.folder)} in ${mailbox.user.mail}`, 404);
    const now = this.now();
    const built = [...(input.message ? [input.message] : []), ...(input.messages ?? [])].map((m) =>
      buildMessage(m, mailbox.user.mail, now),
    );
    if (input.count !== undefined) {
      if (!Number.isInteger(input.count) || input.count < 0 || input.count > 1_000_000) {
        throw new ControlError('count must be an integer from 0 to 1,000,000');
      }
      built.push(...generatedMessages(input.count, mailbox.user.mail, now, mailbox.size));
    }
    return built.map((m) => mailbox.add(folder.id, m));
  }

  change(id: string, changes: MessageChanges): FakeMessage {
    const { mailbox, message } = this.find(id);
    const fields: Partial<MessageFields> = {};
    for (const [name, value] of Object.entries(changes ?? {})) {
      switch (name) {
        case 'body':
          fields.body =
            typeof value === 'string'
              ? { contentType: 'html', content: `<html><body><p>${value}</p></body></html>` }
              : value;
          break;
        case 'from':
          fields.from = recipient(String(value));
          fields.sender = fields.from;
          break;
        case 'subject':
        case 'isRead':
        case 'importance':
        case 'categories':
        case 'flag':
          (fields as Record<string, unknown>)[name] = value;
          break;
        default:
          throw new ControlError(
            `cannot change ${JSON.stringify(name)}; changeable: subject, body, isRead, importance, categories, flag, from`,
          );
      }
    }
    return mailbox.update(message, fields);
  }

  move(id: string, folder: string): FakeMessage {
    const { mailbox, message } = this.find(id);
    const target = mailbox.folder(folder);
    if (!target) throw new ControlError(`no folder ${JSON.stringify(folder)} in ${mailbox.user.mail}`, 404);
    return mailbox.move(message, target.id);
  }

  remove(id: string): void {
    const { mailbox, message } = this.find(id);
    mailbox.remove(message);
  }

  /** Every message of a folder (or the mailbox), rendered whole, with its immutable id: the truth to compare a sync with. */
  snapshot(user: string, folder?: string): Array<Record<string, unknown>> {
    const mailbox = this.mailbox(user);
    const target = folder === undefined ? undefined : mailbox.folder(folder);
    if (folder !== undefined && !target)
      throw new ControlError(`no folder ${JSON.stringify(folder)} in ${mailbox.user.mail}`, 404);
    return mailbox.messagesIn(target?.id).map((m) => ({ ...renderMessage(m), immutableId: m.immutableId }));
  }

  /** Makes the sync states of a folder, a mailbox, or all fall out of the cache: their tokens answer 410. */
  expireDelta(filter: { user?: string; folder?: string } = {}): number {
    if (filter.user === undefined) return this.states.expire();
    const mailbox = this.mailbox(filter.user);
    const folder = filter.folder === undefined ? undefined : mailbox.folder(filter.folder);
    if (filter.folder !== undefined && !folder)
      throw new ControlError(`no folder ${JSON.stringify(filter.folder)}`, 404);
    return this.states.expire({ mailboxId: mailbox.user.id, ...(folder && { folderId: folder.id }) });
  }

  /** Sends a lifecycle event for a subscription (any app's); false when it has no lifecycle URL. */
  lifecycle(subscriptionId: string, event: string): boolean {
    if (!LIFECYCLE_EVENTS.includes(event as LifecycleEvent)) {
      throw new ControlError(`event must be one of ${LIFECYCLE_EVENTS.join(', ')}`);
    }
    const subscription = this.subscriptions.list().find((s) => s.id === subscriptionId);
    if (!subscription) throw new ControlError(`no subscription ${JSON.stringify(subscriptionId)}`, 404);
    return this.subscriptions.lifecycle(subscription, event as LifecycleEvent);
  }

  private find(id: string): { mailbox: Mailbox; message: FakeMessage } {
    const found = this.directory.findMessage(id);
    if (!found) throw new ControlError(`no message ${JSON.stringify(id)}`, 404);
    return found;
  }
}
