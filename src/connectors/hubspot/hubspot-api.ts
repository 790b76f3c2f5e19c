import { type Clock, systemClock } from '../../core/clock.js';
import type { HttpClient } from '../../http/create-http-client.js';
import { HubSpotAssociations } from './hubspot-associations.js';
import { HubSpotObjects } from './hubspot-objects.js';
import { HubSpotProperties } from './hubspot-properties.js';
import { checkObjectType } from './object-type.js';
import { sender } from './send.js';

export interface HubSpotApiOptions {
  clock?: Clock;
  /** How long property definitions and owners are kept, in ms. Defaults to 5 min. */
  cacheTtlMs?: number;
}

/**
 * HubSpot's CRM calls over a client that `provider: hubspot` configured (base URL, token, the tier's
 * limits, error reading): `api.objects('contacts').batchUpsert(…)`, `api.properties.ensure(…)`,
 * `api.associations.read(…)`. Requests are built and answers validated in `calls/`; this object only
 * sends them.
 */
export class HubSpotApi {
  readonly properties: HubSpotProperties;
  readonly associations: HubSpotAssociations;
  private readonly byType = new Map<string, HubSpotObjects>();
  private readonly send;

  constructor(
    readonly client: HttpClient,
    options: HubSpotApiOptions = {},
  ) {
    this.send = sender(client);
    this.properties = new HubSpotProperties(
      this.send,
      options.clock ?? systemClock,
      options.cacheTtlMs ?? 5 * 60_000,
    );
    this.associations = new HubSpotAssociations(this.send);
  }

  /** The calls on one object type; an unknown type fails here, naming what is accepted. */
  objects(type: string): HubSpotObjects {
    const checked = checkObjectType(type);
    let objects = this.byType.get(checked);
    if (!objects) {
      objects = new HubSpotObjects(checked, this.send, this.properties);
      this.byType.set(checked, objects);
    }
    return objects;
  }

  get contacts(): HubSpotObjects {
    return this.objects('contacts');
  }
  get companies(): HubSpotObjects {
    return this.objects('companies');
  }
  get deals(): HubSpotObjects {
    return this.objects('deals');
  }
  get tickets(): HubSpotObjects {
    return this.objects('tickets');
  }

  /** The account's owners, cached briefly. */
  owners(signal?: AbortSignal) {
    return this.properties.owners(signal);
  }
}
