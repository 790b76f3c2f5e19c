import type { DeltaStates, RoundCursor, RoundOptions, SyncState } from './delta-states.js';
import { badRequest, GraphFault } from './graph-errors.js';
import { type GraphRequest, type GraphRoute, json } from './graph-route.js';
import type { Mailbox } from './mailbox.js';
import { renderMessage } from './message-view.js';
import { parseFilter } from './odata-filter.js';
import { expandOf, selectOf, topOf } from './odata-query.js';
import { folderOf } from './request-parts.js';

export interface DeltaSettings {
  deltaPageSize: number;
  deltaEmptyFirstPage: boolean;
  deltaPartialUpdates: boolean;
  deltaLocationOn410: boolean;
}

/** G3: an initial sync filtered on receivedDateTime returns at most this many messages. */
const FILTERED_CAP = 5000;

/**
 * `GET /users/{id}/mailFolders/{id}/messages/delta`, per folder only (G3, G4). A round reports the
 * folder's changes after its token up to the moment it started, page by page: each page has a nextLink
 * (`$skiptoken`) or, on the last, a deltaLink (`$deltatoken`) — never both. Options of the first request
 * are kept in the tokens. An incremental round may start with an empty page, report removals as
 * `@removed`, and carry only the changed properties of an updated message; a changed message can come
 * again in the next round (replays). An expired token answers 410 `SyncStateNotFound`.
 */
export function deltaRoutes(states: DeltaStates, settings: () => DeltaSettings): GraphRoute[] {
  return [
    {
      method: 'GET',
      pattern: 'users/:user/messages/delta',
      access: 'mail.read',
      handle() {
        throw badRequest("Change tracking is not supported against 'microsoft.graph.message'.");
      },
    },
    {
      method: 'GET',
      pattern: 'users/:user/mailfolders/:folder/messages/delta',
      access: 'mail.read',
      handle: (request) => delta(request, states, settings()),
    },
  ];
}

function delta(request: GraphRequest, states: DeltaStates, settings: DeltaSettings) {
  const { mailbox, query } = request;
  const folder = folderOf(mailbox, request.params.folder!);
  const skipToken = query.get('$skiptoken');
  const deltaToken = query.get('$deltatoken');
  if (query.has('$search')) {
    throw badRequest(
      "The query parameter '$search' is not supported with change tracking over the 'Messages' resource.",
    );
  }
  if (skipToken !== undefined && deltaToken !== undefined) {
    throw badRequest('A request may carry a $skiptoken or a $deltatoken, not both.');
  }
  const link = (param: string, token: string) =>
    `${request.origin}/v1.0/users/${mailbox.user.id}/mailFolders('${folder.id}')/messages/delta?${param}=${token}`;

  let state: SyncState;
  const token = skipToken ?? deltaToken;
  if (token === undefined) {
    state = {
      mailboxId: mailbox.user.id,
      folderId: folder.id,
      since: 0,
      options: optionsOf(request),
      generation: 0,
    };
  } else {
    if (token === 'latest') throw badRequest("The delta token 'latest' is not supported for messages.");
    const found = states.lookup(token);
    if ('malformed' in found) throw badRequest('The sync state is malformed.', 'ErrorInvalidSyncStateData');
    if ('missing' in found) {
      const { generation, highest } = found.missing;
      throw new GraphFault(
        410,
        'SyncStateNotFound',
        `The sync state generation is not found; generation=${generation};[highest=${highest}]`,
        settings.deltaLocationOn410 ? { Location: link('$deltatoken', '') } : {},
      );
    }
    state = found.state;
    if (state.folderId !== folder.id || state.mailboxId !== mailbox.user.id) {
      throw badRequest('The sync state does not belong to this folder.', 'ErrorInvalidSyncStateData');
    }
    if (skipToken !== undefined && !state.round)
      throw badRequest('The sync state is malformed.', 'ErrorInvalidSyncStateData');
  }

  const round = state.round ?? startRound(mailbox, folder.id, state, settings);
  const pageSize = request.prefer.maxPageSize ?? state.options.top ?? settings.deltaPageSize;
  const headers = request.prefer.maxPageSize
    ? { 'Preference-Applied': `odata.maxpagesize=${pageSize}` }
    : undefined;
  const body: Record<string, unknown> = {
    '@odata.context': `${request.origin}/v1.0/$metadata#Collection(message)`,
  };
  const base = {
    mailboxId: state.mailboxId,
    folderId: state.folderId,
    since: state.since,
    options: state.options,
  };

  if (!round.emptyServed) {
    body.value = [];
    body['@odata.nextLink'] = link(
      '$skiptoken',
      states.issue({ ...base, round: { ...round, emptyServed: true } }),
    );
    return json(body, 200, headers);
  }
  const keys = round.keys.slice(round.offset, round.offset + pageSize);
  body.value = keys.map((key) =>
    entryView(request, mailbox, folder.id, key, state, settings.deltaPartialUpdates),
  );
  const offset = round.offset + keys.length;
  if (offset < round.keys.length) {
    body['@odata.nextLink'] = link('$skiptoken', states.issue({ ...base, round: { ...round, offset } }));
  } else {
    body['@odata.deltaLink'] = link('$deltatoken', states.issue({ ...base, since: round.upTo }));
  }
  return json(body, 200, headers);
}

/** The keys a round reports, fixed at its first request: the folder's changes in (since, now]. */
function startRound(
  mailbox: Mailbox,
  folderId: string,
  state: SyncState,
  settings: DeltaSettings,
): RoundCursor {
  const { since, options } = state;
  const upTo = mailbox.seq;
  const entries = [...mailbox.log(folderId).changedBetween(since, upTo)].filter((entry) => {
    if (entry.removed)
      return since > 0 && (options.changeType === undefined || options.changeType === 'deleted');
    const created = entry.memberSince > since;
    if (options.changeType === 'deleted') return false;
    if (options.changeType === 'created' && !created) return false;
    if (options.changeType === 'updated' && created) return false;
    const after = options.receivedAfter;
    if (after) {
      const received = mailbox.message(entry.key)?.receivedAt ?? 0;
      if (after.inclusive ? received < after.time : received <= after.time) return false;
    }
    return true;
  });
  const receivedAt = (key: string) => mailbox.message(key)?.receivedAt ?? 0;
  if (options.newestFirst || options.receivedAfter)
    entries.sort((a, b) => receivedAt(b.key) - receivedAt(a.key));
  const capped = options.receivedAfter && since === 0 ? entries.slice(0, FILTERED_CAP) : entries;
  return {
    keys: capped.map((e) => e.key),
    offset: 0,
    upTo,
    emptyServed: !(settings.deltaEmptyFirstPage && since > 0 && capped.length > 0),
  };
}

function entryView(
  request: GraphRequest,
  mailbox: Mailbox,
  folderId: string,
  key: string,
  state: SyncState,
  partialUpdates: boolean,
) {
  const entry = mailbox.log(folderId).get(key)!;
  const message = mailbox.message(key);
  if (entry.removed || !message || message.folderId !== folderId) {
    return {
      '@odata.type': '#microsoft.graph.message',
      id: request.prefer.immutableIds ? key : entry.restId,
      '@removed': { reason: 'deleted' },
    };
  }
  // A message that was in the folder before the token was last seen whole; report what changed since.
  const partial = partialUpdates && state.since > 0 && entry.memberSince <= state.since;
  return {
    '@odata.type': '#microsoft.graph.message',
    ...renderMessage(message, {
      select: state.options.select ? new Set(state.options.select) : undefined,
      bodyType: request.prefer.bodyType,
      immutableIds: request.prefer.immutableIds,
      attachments:
        typeof state.options.expandAttachments === 'boolean'
          ? state.options.expandAttachments
          : new Set(state.options.expandAttachments),
      changedAfter: partial ? state.since : undefined,
    }),
  };
}

function optionsOf(request: GraphRequest): RoundOptions {
  const { query } = request;
  for (const name of query.keys()) {
    if (name.startsWith('$') && !['$select', '$top', '$filter', '$orderby', '$expand'].includes(name)) {
      throw badRequest(
        `The query parameter '${name}' is not supported with change tracking over the 'Messages' resource.`,
      );
    }
  }
  const select = selectOf(query);
  const options: RoundOptions = {
    newestFirst: false,
    expandAttachments: (() => {
      const expand = expandOf(query).attachments;
      return typeof expand === 'boolean' ? expand : [...expand];
    })(),
  };
  if (select) options.select = [...select];
  if (query.has('$top')) options.top = topOf(query, 10);
  const orderby = query.get('$orderby');
  if (orderby !== undefined) {
    if (!/^receivedDateTime\s+desc$/i.test(orderby.trim())) {
      throw badRequest(
        "Only '$orderby=receivedDateTime desc' is supported with change tracking over messages.",
      );
    }
    options.newestFirst = true;
  }
  const changeType = query.get('changeType');
  if (changeType !== undefined) {
    if (changeType !== 'created' && changeType !== 'updated' && changeType !== 'deleted') {
      throw badRequest(`Invalid changeType '${changeType}'; expected created, updated or deleted.`);
    }
    options.changeType = changeType;
  }
  const filter = query.get('$filter');
  if (filter !== undefined) {
    const node = (() => {
      try {
        return parseFilter(filter);
      } catch {
        return undefined;
      }
    })();
    if (
      node?.kind !== 'compare' ||
      node.path.join('/').toLowerCase() !== 'receiveddatetime' ||
      (node.op !== 'ge' && node.op !== 'gt') ||
      node.value === null ||
      typeof node.value !== 'object'
    ) {
      throw badRequest(
        "Only '$filter=receivedDateTime ge|gt <date-time>' is supported with change tracking over messages.",
      );
    }
    options.receivedAfter = { time: node.value.date, inclusive: node.op === 'ge' };
  }
  return options;
}
