import { randomUUID } from 'node:crypto';
import { stableGuid } from './graph-ids.js';
import type { FakeMessage, FakeUser, MailChange } from './mail-types.js';
import { Mailbox } from './mailbox.js';

/** The tenant every fake serves unless told otherwise; its ids are stable across restarts. */
export const DEFAULT_TENANT_ID = stableGuid('patchbay-fake-tenant');
export const DEFAULT_DOMAIN = 'contoso.test';

const DEFAULT_USERS: ReadonlyArray<Pick<FakeUser, 'displayName' | 'givenName' | 'surname' | 'jobTitle'>> = [
  { displayName: 'Adele Vance', givenName: 'Adele', surname: 'Vance', jobTitle: 'Retail Manager' },
  { displayName: 'Alex Wilber', givenName: 'Alex', surname: 'Wilber', jobTitle: 'Marketing Assistant' },
  { displayName: 'Megan Bowen', givenName: 'Megan', surname: 'Bowen', jobTitle: 'Marketing Manager' },
];

export interface NewUser {
  displayName: string;
  /** Defaults to the display name's first word, lower case, at the tenant's domain. */
  mail?: string;
  id?: string;
  jobTitle?: string | null;
  sendAs?: string[];
}

/** The tenant's users and their mailboxes; every change in any mailbox goes to `onChange`. */
export class Directory {
  private readonly mailboxes = new Map<string, Mailbox>();

  constructor(
    private readonly now: () => number,
    private readonly onChange: (change: MailChange) => void,
  ) {}

  /** Back to the three default users with empty mailboxes. */
  reset(): void {
    this.mailboxes.clear();
    for (const user of DEFAULT_USERS) {
      const mail = `${user.givenName.toLowerCase()}@${DEFAULT_DOMAIN}`;
      this.addUser({ ...user, mail, id: stableGuid(mail) });
    }
  }

  addUser(input: NewUser): Mailbox {
    const first = input.displayName.trim().split(/\s+/)[0]!.toLowerCase();
    const mail = input.mail ?? `${first}@${DEFAULT_DOMAIN}`;
    if (this.user(mail)) throw new Error(`a user with mail ${mail} exists already`);
    const [givenName = '', ...rest] = input.displayName.trim().split(/\s+/);
    const user: FakeUser = {
      id: input.id ?? randomUUID(),
      displayName: input.displayName,
      userPrincipalName: mail,
      mail,
      givenName,
      surname: rest.join(' '),
      jobTitle: input.jobTitle ?? null,
      sendAs: input.sendAs ?? [],
    };
    const mailbox = new Mailbox(user, this.now, this.onChange);
    this.mailboxes.set(user.id, mailbox);
    return mailbox;
  }

  users(): FakeUser[] {
    return this.all().map((m) => m.user);
  }

  all(): Mailbox[] {
    return [...this.mailboxes.values()];
  }

  /** A mailbox by user id, user principal name or mail address, case-insensitive, as Graph resolves them. */
  user(idOrName: string): Mailbox | undefined {
    const direct = this.mailboxes.get(idOrName) ?? this.mailboxes.get(idOrName.toLowerCase());
    if (direct) return direct;
    const lower = idOrName.toLowerCase();
    for (const mailbox of this.mailboxes.values()) {
      if (
        mailbox.user.userPrincipalName.toLowerCase() === lower ||
        mailbox.user.mail.toLowerCase() === lower
      ) {
        return mailbox;
      }
    }
    return undefined;
  }

  /** A message anywhere in the tenant (the control plane addresses messages by id alone). */
  findMessage(id: string): { mailbox: Mailbox; message: FakeMessage } | undefined {
    for (const mailbox of this.mailboxes.values()) {
      const message = mailbox.message(id);
      if (message) return { mailbox, message };
    }
    return undefined;
  }
}
