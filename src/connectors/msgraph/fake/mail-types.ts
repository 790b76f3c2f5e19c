/** The mail data the Graph fake holds, in Graph's own shapes where a client sees them (message.md). */

export interface EmailAddress {
  name: string;
  address: string;
}

export interface Recipient {
  emailAddress: EmailAddress;
}

export interface ItemBody {
  contentType: 'text' | 'html';
  content: string;
}

export interface InternetMessageHeader {
  name: string;
  value: string;
}

export interface ExtendedProperty {
  id: string;
  value: string;
}

export interface FakeAttachment {
  id: string;
  name: string;
  contentType: string;
  isInline: boolean;
  contentId: string | null;
  bytes: Buffer;
  lastModifiedAt: number;
}

/** The properties a client may read and some of which it may change; tracked per field for delta. */
export interface MessageFields {
  subject: string;
  body: ItemBody;
  from: Recipient | null;
  sender: Recipient | null;
  toRecipients: Recipient[];
  ccRecipients: Recipient[];
  bccRecipients: Recipient[];
  replyTo: Recipient[];
  isRead: boolean;
  isDraft: boolean;
  importance: 'low' | 'normal' | 'high';
  categories: string[];
  flag: { flagStatus: 'notFlagged' | 'flagged' | 'complete' };
  inferenceClassification: 'focused' | 'other';
  /** Not always present: Graph omits it for some items (issue 18's gotcha). */
  conversationId: string | null;
  internetMessageId: string;
  internetMessageHeaders: InternetMessageHeader[];
  singleValueExtendedProperties: ExtendedProperty[];
}

export type MessageField = keyof MessageFields;

export interface FakeMessage {
  /** The REST id; it changes when the message moves (unless the client asks for immutable ids). */
  id: string;
  /** `Prefer: IdType="ImmutableId"`: stays the same across moves. */
  immutableId: string;
  mailboxId: string;
  folderId: string;
  createdAt: number;
  lastModifiedAt: number;
  receivedAt: number;
  sentAt: number | null;
  changeKey: string;
  fields: MessageFields;
  attachments: FakeAttachment[];
  /** The mailbox change sequence at which each field last changed (partial delta updates). */
  fieldSeq: Map<MessageField, number>;
}

export interface FakeFolder {
  id: string;
  mailboxId: string;
  displayName: string;
  /** `inbox`, `sentitems`…: the name Graph accepts in place of the id. */
  wellKnownName: string | null;
  parentFolderId: string | null;
  isHidden: boolean;
}

export interface FakeUser {
  id: string;
  displayName: string;
  userPrincipalName: string;
  mail: string;
  givenName: string;
  surname: string;
  jobTitle: string | null;
  /** Addresses this mailbox may send as (`from`), besides its own: Exchange's Send As grants. */
  sendAs: string[];
}

/** What a message change does to one folder, for delta and change notifications. */
export type FolderChange = 'created' | 'updated' | 'deleted';

export interface MailChange {
  mailboxId: string;
  folderId: string;
  messageId: string;
  changeType: FolderChange;
  seq: number;
  etag: string;
}
