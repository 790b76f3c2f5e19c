import { z } from 'zod';
import {
  CursorExpiredError,
  defineSync,
  type LocalChange,
  type PushOutcome,
  type SyncDefinitionInput,
  type SyncRecord,
} from '../../src/sync/index.js';

export interface SourceRecord {
  id: string;
  name: string;
  updatedAt: number;
  [field: string]: unknown;
}

/**
 * A provider's data in memory, listed in (updatedAt, id) order from a `since` watermark, with
 * tombstones: the source of the runner's unit tests (the HTTP fake is in patchbay/testing).
 */
export class MemorySource {
  readonly records = new Map<string, SourceRecord>();
  readonly tombstones: { id: string; at: number }[] = [];
  /** Pages served, by their starting position. */
  readonly fetches = new Map<string, number>();
  time = 1_000;
  /** Throws after this many pages (a crash mid-read), once. */
  failAfterPages: number | undefined;
  /** Makes the next page request find its cursor expired. */
  expireNext = false;
  /** The page requests made once `throttleAfterPages` pages were served (by all reads) fail with these, in order. */
  throttles: Error[] = [];
  throttleAfterPages = 0;
  private served = 0;

  /** Writes the source received through `push`, in order. */
  readonly pushed: LocalChange<SyncRecord>[] = [];
  /** `push` answers with the source's version of each record it wrote. */
  returnRecords = true;
  /** Failures to answer, by record id: once (retryable) or always (refused). */
  readonly failures = new Map<string, 'once' | 'always'>();

  /** The push of a bidirectional sync of this source: writes the changes, as an API would. */
  async push(changes: readonly LocalChange<SyncRecord>[]): Promise<PushOutcome<SyncRecord>[]> {
    return changes.map((change): PushOutcome<SyncRecord> => {
      const failure = this.failures.get(change.id);
      if (failure === 'always')
        return { id: change.id, ok: false, error: 'name is refused', retryable: false };
      if (failure === 'once') {
        this.failures.delete(change.id);
        return { id: change.id, ok: false, error: '503 Service Unavailable', retryable: true };
      }
      this.pushed.push(change);
      if (change.data === null) {
        this.delete(change.id);
        return { id: change.id, ok: true };
      }
      const { updatedAt: _u, ...fields } = change.data as Record<string, unknown>;
      const record = this.put(change.id, fields);
      return this.returnRecords
        ? { id: change.id, ok: true, record: { ...record } }
        : { id: change.id, ok: true };
    });
  }

  put(id: string, fields: Partial<SourceRecord> = {}): SourceRecord {
    const record = { name: `r${id}`, ...this.records.get(id), ...fields, id, updatedAt: ++this.time };
    this.records.set(id, record);
    return record;
  }

  delete(id: string): void {
    if (this.records.delete(id)) this.tombstones.push({ id, at: ++this.time });
  }

  seed(n: number): void {
    for (let i = 0; i < n; i++) this.put(String(i).padStart(6, '0'));
  }

  /** Records after (since, afterId) in (updatedAt, id) order. */
  list(since: number, afterId: string, limit: number): SourceRecord[] {
    return [...this.records.values()]
      .filter((r) => r.updatedAt > since || (r.updatedAt === since && r.id > afterId))
      .sort((a, b) => a.updatedAt - b.updatedAt || (a.id < b.id ? -1 : 1))
      .slice(0, limit);
  }

  /** A sync of this source: incremental by watermark (with tombstones), full by listing everything. */
  sync(overrides: Partial<SyncDefinitionInput<SourceRecord>> = {}, pageSize = 10) {
    const source = this;
    return defineSync<SourceRecord>({
      id: 'people',
      key: 'id',
      schema: z.object({ id: z.string(), name: z.string(), updatedAt: z.number() }).passthrough(),
      modifiedAt: 'updatedAt',
      async *fetch(ctx) {
        const cp = (ctx.checkpoint ?? {}) as { since?: number; after?: string };
        let since = cp.since ?? 0;
        let after = cp.after ?? '';
        let pages = 0;
        for (;;) {
          const position = `${ctx.mode}:${since}:${after}`;
          source.fetches.set(position, (source.fetches.get(position) ?? 0) + 1);
          if (source.expireNext) {
            source.expireNext = false;
            throw new CursorExpiredError('cursor expired', { restartFrom: { since } });
          }
          if (source.served === source.throttleAfterPages && source.throttles.length > 0) {
            throw source.throttles.shift()!;
          }
          if (source.failAfterPages !== undefined && pages === source.failAfterPages) {
            source.failAfterPages = undefined;
            throw new Error('connection reset');
          }
          const page = source.list(since, after, pageSize);
          const deleted =
            ctx.mode === 'incremental'
              ? source.tombstones.filter((t) => t.at > (cp.since ?? 0)).map((t) => t.id)
              : [];
          const last = page.at(-1);
          if (last) {
            since = last.updatedAt;
            after = last.id;
          }
          pages++;
          source.served++;
          yield {
            records: page.map((r) => ({ ...r })),
            deleted: pages === 1 ? deleted : [],
            checkpoint: { since, after },
          };
          if (page.length < pageSize) return;
        }
      },
      ...overrides,
    });
  }
}
