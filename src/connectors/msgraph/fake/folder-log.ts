/** One message's last change as a folder saw it. */
export interface LogEntry {
  /** The message's immutable id: the log's key across id changes. */
  key: string;
  /** Its REST id while it was in this folder (what a removal reports). */
  restId: string;
  /** The mailbox change sequence of its last change here. */
  seq: number;
  /** The sequence at which it entered the folder: later than a token means "created" for that token. */
  memberSince: number;
  removed: boolean;
}

/**
 * A folder's change log, the ground truth for delta rounds. Each message has one entry, moved to the end
 * on every change, so the Map's insertion order is sequence order: a round reads the entries changed after
 * its token by walking from the start and stopping past its upper bound. Removals stay as tombstones so a
 * later round can report them as `@removed`.
 */
export class FolderLog {
  private readonly entries = new Map<string, LogEntry>();

  added(key: string, restId: string, seq: number): void {
    this.entries.delete(key);
    this.entries.set(key, { key, restId, seq, memberSince: seq, removed: false });
  }

  updated(key: string, seq: number): void {
    const entry = this.entries.get(key);
    if (!entry || entry.removed) return;
    this.entries.delete(key);
    this.entries.set(key, { ...entry, seq });
  }

  removed(key: string, seq: number): void {
    const entry = this.entries.get(key);
    if (!entry || entry.removed) return;
    this.entries.delete(key);
    this.entries.set(key, { ...entry, seq, removed: true });
  }

  get(key: string): LogEntry | undefined {
    return this.entries.get(key);
  }

  /** Entries whose last change falls in (after, upTo], in sequence order. */
  *changedBetween(after: number, upTo: number): Generator<LogEntry> {
    for (const entry of this.entries.values()) {
      if (entry.seq > upTo) return;
      if (entry.seq > after) yield entry;
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
