import { ErrorCode, PatchbayError } from '../../core/errors.js';
import { batch } from '../../http/batch.js';
import { BATCH_SIZE, batchArchiveRequest, batchReadRequest } from './calls/batch.js';
import {
  type AssociationInput,
  archiveObjectRequest,
  createObjectRequest,
  getObjectRequest,
  listPageRequest,
  processPage,
  type ReadOptions,
  updateObjectRequest,
} from './calls/objects.js';
import { processSearch, type SearchQuery, searchRequest } from './calls/search.js';
import { searchWindows, type WindowedQuery, type WindowPage } from './calls/search-windows.js';
import { unknownPropertiesOf } from './errors.js';
import { type BatchOptions, type HubSpotBatchResult, runBatch, writeBatch } from './hubspot-batch.js';
import type { HubSpotProperties } from './hubspot-properties.js';
import { toPropertyValues, type PropertyInput as Value } from './property-values.js';
import type { HubSpotObject } from './schemas.js';
import type { Send } from './send.js';

export type Properties = Readonly<Record<string, Value>>;

export interface WriteOptions {
  /** Create the properties the type lacks (as strings) and write again, once. Defaults to false. */
  createMissingProperties?: boolean;
  signal?: AbortSignal;
}

/** The calls on one object type (`contacts`, `deals`, `p123_cars`). */
export class HubSpotObjects {
  constructor(
    readonly type: string,
    private readonly send: Send,
    private readonly properties: HubSpotProperties,
  ) {}

  /** One record by id or unique property; undefined when there is none (HubSpot's 404). */
  async get(
    id: string,
    options: ReadOptions & { idProperty?: string; signal?: AbortSignal } = {},
  ): Promise<HubSpotObject | undefined> {
    try {
      return await this.send(getObjectRequest(this.type, id, options), this.on(options.signal));
    } catch (error) {
      if (error instanceof PatchbayError && error.status === 404) return undefined;
      throw error;
    }
  }

  /** One page of the list; pass the previous page's `after`. An expired `after` is a `CursorExpiredError`. */
  async page(options: ReadOptions & { limit?: number; after?: string; signal?: AbortSignal } = {}) {
    return processPage(await this.send(listPageRequest(this.type, options), this.on(options.signal)));
  }

  /** Every record, page by page of 100, until a page has no `paging.next`. */
  async *all(options: ReadOptions & { signal?: AbortSignal } = {}): AsyncGenerator<HubSpotObject> {
    let after: string | undefined;
    do {
      const page = await this.page({ ...options, ...(after && { after }) });
      yield* page.results;
      after = page.after;
    } while (after);
  }

  async create(
    properties: Properties,
    options: WriteOptions & { associations?: readonly AssociationInput[] } = {},
  ): Promise<HubSpotObject> {
    const values = toPropertyValues(properties);
    return this.writing(options, () =>
      this.send(createObjectRequest(this.type, values, options.associations), this.on(options.signal)),
    );
  }

  async update(
    id: string,
    properties: Properties,
    options: WriteOptions & { idProperty?: string } = {},
  ): Promise<HubSpotObject> {
    const values = toPropertyValues(properties);
    return this.writing(options, () =>
      this.send(updateObjectRequest(this.type, id, values, options.idProperty), this.on(options.signal)),
    );
  }

  /** Archives (HubSpot's delete); archiving what is not there is not an error. */
  async archive(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    await this.send(archiveObjectRequest(this.type, id), this.on(options.signal));
  }

  /** Many records by id (or unique property); the missing ones come back as failures, not an error. */
  async batchRead(
    ids: readonly string[],
    options: ReadOptions & BatchOptions & { idProperty?: string } = {},
  ): Promise<HubSpotBatchResult> {
    return runBatch(
      this.send,
      this.type,
      ids.map((id) => ({ id })),
      (chunk) =>
        batchReadRequest(
          this.type,
          chunk.map((c) => c.id),
          options,
        ),
      options,
    );
  }

  async batchCreate(
    inputs: readonly { properties: Properties }[],
    options: BatchOptions & WriteOptions = {},
  ): Promise<HubSpotBatchResult> {
    return writeBatch(
      this.send,
      this.properties,
      this.type,
      'create',
      inputs.map((input, i) => ({
        properties: toPropertyValues(input.properties, `inputs[${i}].properties`),
      })),
      options,
    );
  }

  async batchUpdate(
    inputs: readonly { id: string; properties: Properties }[],
    options: BatchOptions & WriteOptions & { idProperty?: string } = {},
  ): Promise<HubSpotBatchResult> {
    return writeBatch(
      this.send,
      this.properties,
      this.type,
      'update',
      this.withIds(inputs, options.idProperty),
      options,
    );
  }

  /** Creates or updates by a unique property (`idProperty: 'email'`); each result says whether it is `new`. */
  async batchUpsert(
    inputs: readonly { id: string; properties: Properties }[],
    options: BatchOptions & WriteOptions & { idProperty: string },
  ): Promise<HubSpotBatchResult> {
    return writeBatch(
      this.send,
      this.properties,
      this.type,
      'upsert',
      this.withIds(inputs, options.idProperty),
      options,
    );
  }

  /** Archives many records (missing ones are no error); a chunk whose request failed throws `PARTIAL`. */
  async batchArchive(ids: readonly string[], options: BatchOptions = {}): Promise<void> {
    const result = await batch(ids, {
      size: BATCH_SIZE,
      concurrency: options.concurrency ?? 2,
      send: async (chunk) => {
        await this.send(batchArchiveRequest(this.type, chunk), this.on(options.signal));
        return { status: 204, headers: {}, body: undefined, partial: false, attempts: 1 };
      },
      read: () => ({ results: [], errors: [] }),
    });
    if (result.error) throw result.error;
  }

  /** One page of a search, checked against the search API's limits before it is sent. */
  async search(query: SearchQuery, options: { signal?: AbortSignal } = {}) {
    return processSearch(await this.send(searchRequest(this.type, query), this.on(options.signal)));
  }

  /** Every match of a search, past its 10,000-result cap, by windows on the last-modified date. */
  searchAll(query: WindowedQuery, options: { signal?: AbortSignal } = {}): AsyncGenerator<WindowPage> {
    return searchWindows(this.type, query, (q) => this.search(q, options));
  }

  private on(signal: AbortSignal | undefined) {
    return { signal, objectType: this.type };
  }

  private withIds(inputs: readonly { id: string; properties: Properties }[], idProperty?: string) {
    return inputs.map((input, i) => {
      if (typeof input.id !== 'string' || input.id === '') {
        throw new PatchbayError(ErrorCode.INVALID_ARGUMENT, `inputs[${i}].id must be a non-empty string`);
      }
      return {
        id: input.id,
        ...(idProperty && { idProperty }),
        properties: toPropertyValues(input.properties, `inputs[${i}].properties`),
      };
    });
  }

  private async writing<T>(options: WriteOptions, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      const missing = unknownPropertiesOf(error);
      if (!options.createMissingProperties || !missing) throw error;
      await this.properties.ensure(this.type, missing, options.signal);
      return write();
    }
  }
}
