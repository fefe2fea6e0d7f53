import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EntityClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import { serviceReadiness } from '../../lib/health';
import type { Logger } from '../../lib/logger';
import { metricsOptionsOf } from '../../lib/metrics';
import { createSubgraphServer } from '../../lib/subgraph';
import { createListingSource } from './clients/listing-source';
import { createContext } from './context';
import { SeoService } from './domain/seo.service';
import {
  createSitemapIndexRoute,
  createSitemapShardRoute,
  SITEMAP_INDEX_PATH,
  SITEMAP_SHARD_PATH,
} from './routes/sitemap.route';
import { buildSeoSchema } from './schema';

export interface SeoSubgraphDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Secret the gateway signs the viewer header with. */
  internalSecret: string;
  /** listings' `_entities`, for each listing's current public fields. */
  listings: EntityClient;
}

/** Builds the seo subgraph (schema, service, HTTP server) without listening: tests and both run modes use it. */
export async function createSeoSubgraph(deps: SeoSubgraphDeps) {
  const seo = new SeoService({ db: deps.db, source: createListingSource(deps.listings), logger: deps.logger });
  const sitemap = { seo, baseUrl: deps.config.SITEMAP_BASE_URL, shardSize: deps.config.SITEMAP_SHARD_SIZE };
  const schema = await buildSeoSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'seo',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({ seo }),
    routes: {
      [SITEMAP_INDEX_PATH]: createSitemapIndexRoute(sitemap),
      [SITEMAP_SHARD_PATH]: createSitemapShardRoute(sitemap),
    },
    internalRateLimitPerMinute: deps.config.INTERNAL_RATE_LIMIT_PER_MINUTE,
    readiness: serviceReadiness({ db: deps.db, bus: deps.bus }),
  });
  await apollo.start();
  return { apollo, server, seo, schema };
}
export type SeoSubgraph = Awaited<ReturnType<typeof createSeoSubgraph>>;
