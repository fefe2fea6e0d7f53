import { sql } from 'drizzle-orm';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EntityClient, InternalClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import { serviceReadiness } from '../../lib/health';
import type { Logger } from '../../lib/logger';
import { metricsOptionsOf, onePerScrape, scraped } from '../../lib/metrics';
import { providerPolicyFromConfig } from '../../lib/resilience';
import { createSubgraphServer } from '../../lib/subgraph';
import { createListingDirectory } from './clients/listing-directory';
import { createListingSource } from './clients/listing-source';
import { createContext } from './context';
import { IndexNowSender } from './domain/indexnow-sender';
import { keyLocationFor } from './domain/key-location';
import { SeoService } from './domain/seo.service';
import type { IndexNowGateway } from './provider/indexnow.port';
import { createKeyFileRoute, KEY_FILE_PATH } from './routes/key-file.route';
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
  /** listings' GraphQL endpoint, for the admin `listings` pages of `rebuildSitemap`. */
  listingsQuery: InternalClient;
  /** IndexNow (the emulator without INDEXNOW_KEY). */
  indexNow: IndexNowGateway;
  /** Our IndexNow key (INDEXNOW_KEY, or the dev key). */
  indexNowKey: string;
  /**
   * Public base URL the gateway's key file is reached at (keyLocation = `<base>/<key>.txt` when it
   * is on the listings' host; see keyLocationFor).
   * A function: embedded mode learns the gateway's address after listening. @default SITEMAP_BASE_URL
   */
  publicBaseUrl?: () => string;
}

/** Builds the seo subgraph (schema, service, HTTP server) without listening: tests and both run modes use it. */
export async function createSeoSubgraph(deps: SeoSubgraphDeps) {
  const publicBase = deps.publicBaseUrl ?? (() => deps.config.SITEMAP_BASE_URL);
  const policy = providerPolicyFromConfig('indexnow', deps.config, deps.indexNow, deps.logger);
  const indexNow = new IndexNowSender({
    db: deps.db,
    gateway: deps.indexNow,
    policy,
    logger: deps.logger,
    key: deps.indexNowKey,
    keyLocation: (host) => keyLocationFor(host, publicBase(), deps.config.SITE_URL, deps.indexNowKey),
    batchWindowMs: deps.config.INDEXNOW_BATCH_WINDOW_MS,
    maxAttempts: deps.config.INDEXNOW_MAX_ATTEMPTS,
  });
  const seo = new SeoService({
    db: deps.db,
    source: createListingSource(deps.listings),
    directory: createListingDirectory(deps.listingsQuery),
    indexNow,
    logger: deps.logger,
  });
  // The IndexNow backlog for the metrics, read when Prometheus scrapes.
  const backlog = onePerScrape(async () => {
    const result = (await deps.db.execute(sql`
      select status, count(*)::int as n from seo.indexnow_urls where status in ('PENDING', 'RETRYING', 'FAILED') group by status`)) as unknown as {
      rows: Array<{ status: string; n: number | string }>;
    };
    return result.rows;
  });
  scraped.indexNowBacklog(async () => {
    const rows = await backlog();
    return (['PENDING', 'RETRYING', 'FAILED'] as const).map((status) => ({
      labels: { state: status.toLowerCase() },
      value: Number(rows.find((r) => r.status === status)?.n ?? 0),
    }));
  });
  const sitemap = { seo, baseUrl: deps.config.SITEMAP_BASE_URL, shardSize: deps.config.SITEMAP_SHARD_SIZE };
  const schema = await buildSeoSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'seo',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({ seo, indexNow }),
    routes: {
      [KEY_FILE_PATH]: createKeyFileRoute(deps.indexNowKey),
      [SITEMAP_INDEX_PATH]: createSitemapIndexRoute(sitemap),
      [SITEMAP_SHARD_PATH]: createSitemapShardRoute(sitemap),
    },
    internalRateLimitPerMinute: deps.config.INTERNAL_RATE_LIMIT_PER_MINUTE,
    readiness: serviceReadiness({ db: deps.db, bus: deps.bus, providers: { indexnow: policy } }),
  });
  await apollo.start();
  return { apollo, server, seo, indexNow, policy, schema };
}
export type SeoSubgraph = Awaited<ReturnType<typeof createSeoSubgraph>>;
