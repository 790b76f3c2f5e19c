import type { Clock } from '../../core/clock.js';
import { ErrorCode, isPatchbayError } from '../../core/errors.js';
import {
  createPropertyRequest,
  ownersPageRequest,
  type PropertyInput,
  propertiesRequest,
} from './calls/properties.js';
import { checkObjectType, defaultGroup } from './object-type.js';
import type { HubSpotOwner, HubSpotProperty } from './schemas.js';
import type { Send } from './send.js';
import { TtlCache } from './ttl-cache.js';

/**
 * Property definitions of each object type, and the account's owners, both cached briefly (they rarely
 * change and every read costs a request). `ensure` creates what a write needs before it writes.
 */
export class HubSpotProperties {
  private readonly definitions: TtlCache<HubSpotProperty[]>;
  private readonly ownerList: TtlCache<HubSpotOwner[]>;

  constructor(
    private readonly send: Send,
    clock: Clock,
    ttlMs: number,
  ) {
    this.definitions = new TtlCache(clock, ttlMs);
    this.ownerList = new TtlCache(clock, ttlMs);
  }

  /** Every (not archived) property of a type. */
  list(type: string, signal?: AbortSignal): Promise<HubSpotProperty[]> {
    const checked = checkObjectType(type);
    return this.definitions.get(
      checked,
      async () => (await this.send(propertiesRequest(checked), { signal })).results,
    );
  }

  async create(type: string, input: PropertyInput, signal?: AbortSignal): Promise<HubSpotProperty> {
    const checked = checkObjectType(type);
    try {
      return await this.send(createPropertyRequest(checked, input, defaultGroup(checked)), { signal });
    } finally {
      this.definitions.forget(checked);
    }
  }

  /**
   * Creates the properties of `inputs` the type does not have yet (a string property unless told
   * otherwise); returns the names it created. Another process creating one at the same time is fine:
   * its 409 counts as there.
   */
  async ensure(
    type: string,
    inputs: readonly (PropertyInput | string)[],
    signal?: AbortSignal,
  ): Promise<string[]> {
    const wanted = inputs.map((i) => (typeof i === 'string' ? { name: i } : i));
    const have = new Set((await this.list(type, signal)).map((p) => p.name));
    const created: string[] = [];
    for (const input of wanted) {
      if (have.has(input.name)) continue;
      try {
        await this.create(type, input, signal);
        created.push(input.name);
      } catch (error) {
        if (!(isPatchbayError(error, ErrorCode.HTTP_CLIENT_ERROR) && error.status === 409)) throw error;
      }
      have.add(input.name);
    }
    return created;
  }

  /** The account's owners (the values of `hubspot_owner_id`), every page of them. */
  owners(signal?: AbortSignal): Promise<HubSpotOwner[]> {
    return this.ownerList.get('owners', async () => {
      const owners: HubSpotOwner[] = [];
      let after: string | undefined;
      do {
        const page = await this.send(ownersPageRequest(after), { signal });
        owners.push(...page.results);
        after = page.paging?.next?.after;
      } while (after);
      return owners;
    });
  }
}
