import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import { createEntityClient, createInternalClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { Shutdown } from '../../lib/lifecycle';
import type { Logger } from '../../lib/logger';
import { createRollingRateLimiter } from '../../lib/rate-limiter';
import { retryInBackground, type BackgroundTask } from '../../lib/resilience';
import { consumeUserChanges } from './events/user-changes.consumer';
import { startBulkSyncRunner } from './jobs/bulk-sync.job';
import { startCrmFlusher } from './jobs/flush.job';
import { createHubSpotAdapter } from './provider/hubspot.adapter';
import { createCrmSubgraph, type CrmSubgraph } from './server';

export interface ComposeCrmOptions {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  shutdown: Shutdown;
  /** Signs calls to listings and payments (the internal viewer header). */
  internalSecret: string;
  /** A HubSpot-compatible API (the emulator); HubSpot itself when absent. */
  hubspotApiUrl?: string;
  /** Where listings and payments answer (functions: embedded mode learns them after listening). */
  listingsUrl: () => string;
  paymentsUrl: () => string;
}

/**
 * The crm service's parts, as both composition roots (services mode and embedded mode) build them:
 * the HubSpot adapter behind the rate limiter, the subgraph, the event consumer, the flusher and the
 * bulk-sync runner (the workers registered for shutdown; the caller serves and stops the subgraph).
 */
export async function composeCrm(options: ComposeCrmOptions): Promise<CrmSubgraph> {
  const { config, logger, shutdown } = options;
  const gateway = createHubSpotAdapter({
    accessToken: config.HUBSPOT_ACCESS_TOKEN ?? 'pat-emulator',
    apiUrl: options.hubspotApiUrl,
    timeoutMs: config.HUBSPOT_TIMEOUT_MS,
    logger,
    rateLimiter: createRollingRateLimiter({
      limit: config.HUBSPOT_RATE_LIMIT,
      windowMs: config.HUBSPOT_RATE_WINDOW_MS,
    }),
  });
  const internal = { internalSecret: options.internalSecret };
  let properties: BackgroundTask | undefined;
  const subgraph = await createCrmSubgraph({
    config,
    db: options.db,
    bus: options.bus,
    logger,
    internalSecret: options.internalSecret,
    gateway,
    listings: createEntityClient({ service: 'listings', url: options.listingsUrl, ...internal }),
    listingsQuery: createInternalClient({ service: 'listings', url: options.listingsUrl, ...internal }),
    payments: createEntityClient({ service: 'payments', url: options.paymentsUrl, ...internal }),
    // Degraded, not down: the graph is served and changes are recorded while HubSpot is away.
    readiness: [{ name: 'hubspot_properties', check: async () => properties?.done() === true, degradesOnly: true }],
  });
  // Our custom properties must exist before the first upsert. HubSpot may be down when we start (or
  // restart after a crash): start anyway, keep trying in the background, and hold the sync until then.
  properties = retryInBackground(
    'hubspot properties',
    () => subgraph.policy.execute(() => gateway.ensureProperties(), 'ensure properties'),
    {
      logger,
      initialDelayMs: config.PROVIDER_RETRY_DELAY_MS,
      maxDelayMs: config.PROVIDER_BREAKER_COOLDOWN_MS,
    },
  );
  subgraph.crm.setup = properties;
  shutdown.add('hubspot properties', () => properties!.stop());
  const synced = () => properties!.done();
  await consumeUserChanges({ bus: options.bus, db: options.db, crm: subgraph.crm });
  shutdown.add('crm flusher', startCrmFlusher(subgraph.crm, logger, config.CRM_FLUSH_INTERVAL_MS, synced));
  shutdown.add('crm bulk sync', startBulkSyncRunner(subgraph.bulk, logger, config.CRM_FLUSH_INTERVAL_MS, synced));
  return subgraph;
}
