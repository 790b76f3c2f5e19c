import { ErrorCode, PatchbayError } from '../../core/errors.js';
import {
  ASSOCIATION_BATCH_SIZE,
  type AssociationSpec,
  associationsArchiveRequest,
  associationsCreateRequest,
  associationsReadRequest,
  recordAssociationsRequest,
} from './calls/associations.js';
import { checkObjectType } from './object-type.js';
import type { BatchError, HubSpotAssociation } from './schemas.js';
import type { Send } from './send.js';

export interface AssociationPair {
  from: string;
  to: string;
  /** Labelled types; the default (unlabeled) association when absent. */
  types?: readonly AssociationSpec[];
}

/** One association HubSpot did not make; `ASSOCIATION_LIMIT` when a record has as many as it may. */
export interface AssociationFailure {
  category: string;
  message: string;
  records: string[];
}

const isLimit = (e: BatchError) =>
  (typeof e.subCategory === 'string' && /TOO_MANY_ASSOCIATIONS|ASSOCIATION_LIMIT/i.test(e.subCategory)) ||
  /maximum of \d+ associations/i.test(e.message);

/** Associations v4, in batches of at most 1,000 (longer lists are split). */
export class HubSpotAssociations {
  constructor(private readonly send: Send) {}

  /** The associations of each record to a type; a record with none maps to []. */
  async read(
    from: string,
    to: string,
    ids: readonly string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<Map<string, HubSpotAssociation[]>> {
    const [a, b] = [checkObjectType(from), checkObjectType(to)];
    const found = new Map<string, HubSpotAssociation[]>(ids.map((id) => [id, []]));
    for (let i = 0; i < ids.length; i += ASSOCIATION_BATCH_SIZE) {
      const body = await this.send(associationsReadRequest(a, b, ids.slice(i, i + ASSOCIATION_BATCH_SIZE)), {
        signal: options.signal,
      });
      // A record without associations of that type is one of the 207's errors, not an empty result.
      for (const result of body.results) {
        let all = result.to;
        let after = result.paging?.next?.after;
        while (after) {
          const more = await this.send(recordAssociationsRequest(a, result.from.id, b, after), {
            signal: options.signal,
          });
          all = [...all, ...more.results];
          after = more.paging?.next?.after;
        }
        found.set(result.from.id, all);
      }
    }
    return found;
  }

  /** Every association of one record to a type, all pages. */
  async ofRecord(
    from: string,
    id: string,
    to: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<HubSpotAssociation[]> {
    return (await this.read(from, to, [id], options)).get(id) ?? [];
  }

  /** Makes associations; what HubSpot refused comes back per failure rather than as an error. */
  async create(
    from: string,
    to: string,
    pairs: readonly AssociationPair[],
    options: { signal?: AbortSignal } = {},
  ): Promise<{ created: number; failures: AssociationFailure[] }> {
    const [a, b] = [checkObjectType(from), checkObjectType(to)];
    let created = 0;
    const failures: AssociationFailure[] = [];
    for (let i = 0; i < pairs.length; i += ASSOCIATION_BATCH_SIZE) {
      const body = await this.send(
        associationsCreateRequest(a, b, pairs.slice(i, i + ASSOCIATION_BATCH_SIZE)),
        { signal: options.signal },
      );
      created += body.results.length;
      for (const e of body.errors ?? []) {
        failures.push({
          category: isLimit(e) ? ErrorCode.ASSOCIATION_LIMIT : e.category,
          message: e.message,
          records: Object.values(e.context ?? {}).flat(),
        });
      }
    }
    return { created, failures };
  }

  /** One association; a record at its limit fails with `ASSOCIATION_LIMIT` naming it. */
  async link(
    from: string,
    fromId: string,
    to: string,
    toId: string,
    options: { types?: readonly AssociationSpec[]; signal?: AbortSignal } = {},
  ): Promise<void> {
    const { failures } = await this.create(
      from,
      to,
      [{ from: fromId, to: toId, ...(options.types && { types: options.types }) }],
      options,
    );
    const failure = failures[0];
    if (!failure) return;
    throw new PatchbayError(
      failure.category === ErrorCode.ASSOCIATION_LIMIT
        ? ErrorCode.ASSOCIATION_LIMIT
        : ErrorCode.HTTP_CLIENT_ERROR,
      `HubSpot did not associate ${from} ${fromId} with ${to} ${toId}: ${failure.message}`,
      {
        classification: 'permanent',
        data: { category: failure.category, records: failure.records },
      },
    );
  }

  async archive(
    from: string,
    to: string,
    pairs: readonly { from: string; to: string }[],
    options: { signal?: AbortSignal } = {},
  ): Promise<void> {
    const [a, b] = [checkObjectType(from), checkObjectType(to)];
    for (let i = 0; i < pairs.length; i += ASSOCIATION_BATCH_SIZE) {
      await this.send(associationsArchiveRequest(a, b, pairs.slice(i, i + ASSOCIATION_BATCH_SIZE)), {
        signal: options.signal,
      });
    }
  }
}
