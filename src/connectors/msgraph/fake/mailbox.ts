import { FolderLog } from './folder-log.js';
import { changeKey, folderId as newFolderId, messageId as newMessageId } from './graph-ids.js';
import type {
  FakeAttachment,
  FakeFolder,
  FakeMessage,
  FakeUser,
  MailChange,
  MessageField,
  MessageFields,
} from './mail-types.js';

/** The folders every Exchange mailbox has, by the well-known names Graph accepts in place of ids. */
const WELL_KNOWN: ReadonlyArray<[string, string]> = [
  ['inbox', 'Inbox'],
  ['drafts', 'Drafts'],
  ['sentitems', 'Sent Items'],
  ['deleteditems', 'Deleted Items'],
  ['junkemail', 'Junk Email'],
  ['archive', 'Archive'],
  ['outbox', 'Outbox'],
];

export interface NewMessage {
  fields: MessageFields;
  receivedAt: number;
  sentAt: number | null;
  attachments?: FakeAttachment[];
}

/**
 * One user's mailbox: folders, messages, and a change sequence that every mutation advances. Each
 * mutation updates the folders' logs (delta) and tells the listeners (change notifications).
 */
export class Mailbox {
  readonly folders = new Map<string, FakeFolder>();
  private readonly messages = new Map<string, FakeMessage>();
  /** Immutable id → message. */
  private readonly byKey = new Map<string, FakeMessage>();
  private readonly logs = new Map<string, FolderLog>();
  /** The hidden root (`msgfolderroot`) whose children are the top-level folders. */
  readonly root: FakeFolder;
  seq = 0;

  constructor(
    readonly user: FakeUser,
    private readonly now: () => number,
    private readonly emit: (change: MailChange) => void,
  ) {
    this.root = this.createFolder('Top of Information Store', null, 'msgfolderroot');
    this.root.isHidden = true;
    for (const [name, displayName] of WELL_KNOWN) this.createFolder(displayName, this.root.id, name);
  }

  createFolder(
    displayName: string,
    parentFolderId: string | null,
    wellKnownName: string | null = null,
  ): FakeFolder {
    const folder: FakeFolder = {
      id: newFolderId(),
      mailboxId: this.user.id,
      displayName,
      wellKnownName,
      parentFolderId,
      isHidden: false,
    };
    this.folders.set(folder.id, folder);
    this.logs.set(folder.id, new FolderLog());
    return folder;
  }

  /** A folder by id or well-known name (case-insensitive, as Graph matches them). */
  folder(idOrName: string): FakeFolder | undefined {
    const direct = this.folders.get(idOrName);
    if (direct) return direct;
    const lower = idOrName.toLowerCase();
    for (const folder of this.folders.values()) if (folder.wellKnownName === lower) return folder;
    return undefined;
  }

  log(folderId: string): FolderLog {
    return this.logs.get(folderId)!;
  }

  /** A message by its REST id or its immutable id. */
  message(id: string): FakeMessage | undefined {
    return this.messages.get(id) ?? this.byKey.get(id);
  }

  messagesIn(folderId: string | undefined): FakeMessage[] {
    const all = [...this.messages.values()];
    return folderId === undefined ? all : all.filter((m) => m.folderId === folderId);
  }

  get size(): number {
    return this.messages.size;
  }

  add(folderId: string, input: NewMessage): FakeMessage {
    const seq = ++this.seq;
    const now = this.now();
    const id = newMessageId();
    const message: FakeMessage = {
      id,
      immutableId: newMessageId(),
      mailboxId: this.user.id,
      folderId,
      createdAt: now,
      lastModifiedAt: now,
      receivedAt: input.receivedAt,
      sentAt: input.sentAt,
      changeKey: changeKey(),
      fields: input.fields,
      attachments: input.attachments ?? [],
      fieldSeq: new Map(),
    };
    this.messages.set(id, message);
    this.byKey.set(message.immutableId, message);
    this.log(folderId).added(message.immutableId, id, seq);
    this.changed(message, folderId, 'created', seq);
    return message;
  }

  /** Changes some fields; only the fields whose value differs count as changed. */
  update(message: FakeMessage, changes: Partial<MessageFields>): FakeMessage {
    const changed = (Object.keys(changes) as MessageField[]).filter(
      (field) => JSON.stringify(message.fields[field]) !== JSON.stringify(changes[field]),
    );
    if (changed.length === 0) return message;
    const seq = ++this.seq;
    message.fields = { ...message.fields, ...changes };
    for (const field of changed) message.fieldSeq.set(field, seq);
    message.changeKey = changeKey();
    message.lastModifiedAt = this.now();
    this.log(message.folderId).updated(message.immutableId, seq);
    this.changed(message, message.folderId, 'updated', seq);
    return message;
  }

  /** Moves a message; Exchange gives it a new REST id in its new folder (the immutable id stays). */
  move(message: FakeMessage, folderId: string): FakeMessage {
    if (message.folderId === folderId) return message;
    const seq = ++this.seq;
    const from = message.folderId;
    this.log(from).removed(message.immutableId, seq);
    this.changed(message, from, 'deleted', seq);
    this.messages.delete(message.id);
    message.id = newMessageId();
    message.folderId = folderId;
    message.changeKey = changeKey();
    message.lastModifiedAt = this.now();
    this.messages.set(message.id, message);
    this.log(folderId).added(message.immutableId, message.id, seq);
    this.changed(message, folderId, 'created', seq);
    return message;
  }

  remove(message: FakeMessage): void {
    const seq = ++this.seq;
    this.log(message.folderId).removed(message.immutableId, seq);
    this.messages.delete(message.id);
    this.byKey.delete(message.immutableId);
    this.changed(message, message.folderId, 'deleted', seq);
  }

  private changed(message: FakeMessage, folderId: string, changeType: MailChange['changeType'], seq: number) {
    this.emit({
      mailboxId: this.user.id,
      folderId,
      messageId: message.id,
      changeType,
      seq,
      etag: `W/"${message.changeKey}"`,
    });
  }
}
