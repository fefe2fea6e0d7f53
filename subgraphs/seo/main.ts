import '../../lib/telemetry';
import 'reflect-metadata';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { composeSeo } from './compose';
import { SEO_DB_SCHEMA, SEO_MIGRATIONS } from './db/migrations';

/**
 * The seo subgraph on its own: `npm run start:seo`. Reads listings at LISTINGS_URL; pushes to
 * IndexNow at INDEXNOW_ENDPOINT with INDEXNOW_KEY (the emulator's URL and the dev key without).
 */
void runService('seo', async ({ config, logger, shutdown }) => {
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'seo',
    migrations: [[SEO_MIGRATIONS, SEO_DB_SCHEMA]],
  });
  const subgraph = await composeSeo({
    config,
    db: handle.db,
    bus,
    logger,
    shutdown,
    internalSecret: config.INTERNAL_SECRET,
    listingsUrl: () => config.LISTINGS_URL,
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  const address = await listen(subgraph.server, config.SEO_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
