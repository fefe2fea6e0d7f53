import { indexNowConnection, type Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import { createEntityClient, createInternalClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { Shutdown } from '../../lib/lifecycle';
import type { Logger } from '../../lib/logger';
import { consumeListingChanges, consumeSellerChanges } from './events/listing-changes.consumer';
import { senderIntervalMs, startIndexNowSender } from './jobs/indexnow.job';
import { createIndexNowAdapter } from './provider/indexnow.adapter';
import { createSeoSubgraph, type SeoSubgraph } from './server';

export interface ComposeSeoOptions {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  shutdown: Shutdown;
  internalSecret: string;
  /** Where listings answers (a function: embedded mode learns it after listening). */
  listingsUrl: () => string;
  /** IndexNow's endpoint. @default indexNowConnection(config).endpoint */
  indexNowEndpoint?: string;
  /** Public base URL of the gateway's key file. @default SITEMAP_BASE_URL */
  publicBaseUrl?: () => string;
}

/**
 * The seo service's parts, as both composition roots build them: the IndexNow adapter, the
 * subgraph, the listing-changes consumer and the IndexNow sender (registered for shutdown; the
 * caller serves and stops the subgraph).
 */
export async function composeSeo(options: ComposeSeoOptions): Promise<SeoSubgraph> {
  const { config, logger } = options;
  const connection = indexNowConnection(config);
  const internal = { internalSecret: options.internalSecret };
  const subgraph = await createSeoSubgraph({
    config,
    db: options.db,
    bus: options.bus,
    logger,
    internalSecret: options.internalSecret,
    listings: createEntityClient({ service: 'listings', url: options.listingsUrl, ...internal }),
    listingsQuery: createInternalClient({ service: 'listings', url: options.listingsUrl, ...internal }),
    indexNow: createIndexNowAdapter({
      endpoint: options.indexNowEndpoint ?? connection.endpoint,
      timeoutMs: config.INDEXNOW_TIMEOUT_MS,
      logger,
    }),
    indexNowKey: connection.key,
    publicBaseUrl: options.publicBaseUrl,
  });
  await consumeListingChanges({ bus: options.bus, db: options.db, seo: subgraph.seo });
  await consumeSellerChanges({ bus: options.bus, db: options.db, seo: subgraph.seo });
  options.shutdown.add(
    'indexnow sender',
    startIndexNowSender(subgraph.indexNow, logger, senderIntervalMs(config.INDEXNOW_BATCH_WINDOW_MS)),
  );
  return subgraph;
}
