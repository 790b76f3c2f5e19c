import { jobs } from './0001-jobs.js';
import { rateLimits } from './0002-rate-limits.js';
import { events } from './0003-events.js';
import { deliveries } from './0004-deliveries.js';
import { connections } from './0005-connections.js';
import { sources } from './0006-sources.js';
import { destinationSecrets } from './0007-destination-secrets.js';
import { syncs } from './0008-syncs.js';
import { sendLedger } from './0009-send-ledger.js';
import { eventTrace } from './0010-event-trace.js';
import { dashboardIndexes } from './0011-dashboard-indexes.js';
import { opsSignals } from './0012-ops-signals.js';
import { traffic } from './0013-traffic.js';
import type { Migration } from './types.js';

export type { Migration } from './types.js';

/** Every migration, in order. Append; never reorder or edit a shipped one. */
export const migrations: readonly Migration[] = [
  jobs,
  rateLimits,
  events,
  deliveries,
  connections,
  sources,
  destinationSecrets,
  syncs,
  sendLedger,
  eventTrace,
  dashboardIndexes,
  opsSignals,
  traffic,
];
