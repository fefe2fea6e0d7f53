import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../lib/config';
import { projectRoot } from '../lib/data-dir';
import { createDatabase, type DatabaseHandle } from '../lib/db';
import { createEventBus, type EventBus } from '../lib/events';
import { closeServer, listen, urlOf } from '../lib/http';
import type { Logger } from '../lib/logger';
import type { Shutdown } from '../lib/lifecycle';
import { createGateway, type Gateway } from '../gateway/server';
import { LISTINGS_DB_SCHEMA, LISTINGS_MIGRATIONS } from '../subgraphs/listings/db/migrations';
import { startExpirySweeper } from '../subgraphs/listings/jobs/expiry.job';
import { createListingsSubgraph, type ListingsSubgraph } from '../subgraphs/listings/server';

export interface EmbeddedOptions {
  /** Config with both secrets set. */
  config: Config & { JWT_SECRET: string; INTERNAL_SECRET: string };
  /** PGlite folder; memory when undefined. */
  dataDir?: string;
  /** A migrated PGlite dump to start from (tests). */
  loadDataDir?: Blob;
  /** Use this database instead of opening one (tests on PostgreSQL). */
  handle?: DatabaseHandle;
  logger: Logger;
  shutdown: Shutdown;
  /** Ports; 0 picks free ones (tests). Defaults to the config's. */
  ports?: { gateway: number; listings: number };
  onQuery?: (query: string, params: unknown[]) => void;
}

export interface EmbeddedStack {
  urls: { gateway: string; subgraphs: Record<string, string> };
  handle: DatabaseHandle;
  bus: EventBus;
  gateway: Gateway;
  listings: ListingsSubgraph;
}

/**
 * The whole graph in this process: one database (schema per subgraph, plus pg-boss's), each
 * subgraph on its own loopback port, the gateway calling them over HTTP exactly as in production.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedStack> {
  const { config, logger, shutdown } = options;
  const handle =
    options.handle ??
    (await createDatabase({ url: config.DATABASE_URL, dataDir: options.dataDir, loadDataDir: options.loadDataDir, poolMax: config.DATABASE_POOL_MAX, onQuery: options.onQuery }));
  if (!options.handle) shutdown.add('database', () => handle.close());
  await handle.migrate(LISTINGS_MIGRATIONS, LISTINGS_DB_SCHEMA);
  const bus = await createEventBus({ handle, source: 'listings', logger: logger.child({ service: 'events' }) });
  shutdown.add('event bus', () => bus.stop());

  const host = config.HOST;
  const listings = await createListingsSubgraph({
    config,
    db: handle.db,
    bus,
    logger: logger.child({ service: 'listings' }),
    internalSecret: config.INTERNAL_SECRET,
  });
  const listingsAddress = await listen(listings.server, options.ports?.listings ?? config.LISTINGS_PORT, host);
  // Closers run last-added first: stop taking requests (drain HTTP) before stopping Apollo.
  shutdown.add('listings apollo', () => listings.apollo.stop());
  shutdown.add('listings http', () => closeServer(listings.server, config.SHUTDOWN_GRACE_MS));
  const stopSweeper = startExpirySweeper(listings.listings, logger.child({ service: 'listings' }));
  shutdown.add('expiry sweeper', stopSweeper);

  const subgraphs = { listings: urlOf(listingsAddress) };
  const gateway = await createGateway({
    supergraphSdl: fs.readFileSync(path.join(projectRoot(), 'schema/supergraph.graphql'), 'utf8'),
    subgraphUrls: subgraphs,
    jwt: { secret: config.JWT_SECRET, issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE },
    internalSecret: config.INTERNAL_SECRET,
    internalTokenTtlSeconds: config.INTERNAL_TOKEN_TTL_SECONDS,
    logger: logger.child({ service: 'gateway' }),
    development: config.NODE_ENV !== 'production',
    sandbox: config.SANDBOX,
    corsOrigins: config.CORS_ORIGINS,
    maxBodyBytes: config.MAX_BODY_BYTES,
  });
  const gatewayAddress = await listen(gateway.server, options.ports?.gateway ?? config.GATEWAY_PORT, host);
  shutdown.add('gateway apollo', () => gateway.apollo.stop());
  shutdown.add('gateway http', () => closeServer(gateway.server, config.SHUTDOWN_GRACE_MS));

  return { urls: { gateway: urlOf(gatewayAddress), subgraphs }, handle, bus, gateway, listings };
}
