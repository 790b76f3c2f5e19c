import { randomBytes } from 'node:crypto';

/** The query options of a round's first request, replayed with every token of it (G2). */
export interface RoundOptions {
  select?: string[];
  /** `$top` of the first request; a page size the tokens keep. */
  top?: number;
  /** `receivedDateTime ge|gt <time>`: the one filter Outlook delta takes. */
  receivedAfter?: { time: number; inclusive: boolean };
  changeType?: 'created' | 'updated' | 'deleted';
  newestFirst: boolean;
  /** `$expand=attachments`, with its `$select` when it had one. */
  expandAttachments: boolean | string[];
}

/** A round in progress: the keys it reports, fixed when it started, and how far it got. */
export interface RoundCursor {
  keys: readonly string[];
  offset: number;
  /** The mailbox sequence the round covers up to; its deltaLink continues from there. */
  upTo: number;
  /** The empty first page has been served (or was not wanted). */
  emptyServed: boolean;
}

export interface SyncState {
  mailboxId: string;
  folderId: string;
  /** Changes after this mailbox sequence are reported (0 for the initial round). */
  since: number;
  options: RoundOptions;
  generation: number;
  /** Present for `$skiptoken`s; absent for `$deltatoken`s. */
  round?: RoundCursor;
}

export type Lookup =
  | { state: SyncState }
  | { missing: { generation: number; highest: number } }
  | { malformed: true };

/**
 * The sync states behind `$skiptoken` and `$deltatoken`. Outlook keeps them in a cache with no fixed
 * lifetime (G2); here they live until `capacity` newer ones push them out or a test expires them, and
 * then the token answers 410 `SyncStateNotFound` (G13). Every token names its generation, which the 410
 * message repeats as Graph's does.
 */
export class DeltaStates {
  private readonly states = new Map<string, SyncState>();
  private generation = 0;

  constructor(private readonly capacity: () => number) {}

  issue(state: Omit<SyncState, 'generation'>): string {
    const generation = ++this.generation;
    const token = `${generation.toString(36)}.${randomBytes(24).toString('base64url')}`;
    this.states.set(token, { ...state, generation });
    while (this.states.size > this.capacity()) this.states.delete(this.states.keys().next().value!);
    return token;
  }

  lookup(token: string): Lookup {
    const match = /^([0-9a-z]+)\.[A-Za-z0-9_-]{32}$/.exec(token);
    if (!match) return { malformed: true };
    const state = this.states.get(token);
    if (state) return { state };
    return { missing: { generation: Number.parseInt(match[1]!, 36), highest: this.generation } };
  }

  /** Drops the states of one folder, one mailbox or all: their tokens answer 410 from now on. */
  expire(filter: { mailboxId?: string; folderId?: string } = {}): number {
    let dropped = 0;
    for (const [token, state] of this.states) {
      if (filter.mailboxId !== undefined && state.mailboxId.toLowerCase() !== filter.mailboxId.toLowerCase())
        continue;
      if (filter.folderId !== undefined && state.folderId !== filter.folderId) continue;
      this.states.delete(token);
      dropped++;
    }
    return dropped;
  }

  get size(): number {
    return this.states.size;
  }

  clear(): void {
    this.states.clear();
  }
}
