import '../../lib/telemetry';
import 'reflect-metadata';
import { createEntityClient } from '../../lib/entity-client';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { SEO_DB_SCHEMA, SEO_MIGRATIONS } from './db/migrations';
import { consumeListingChanges } from './events/listing-changes.consumer';
import { createSeoSubgraph } from './server';

/** The seo subgraph on its own: `npm run start:seo`. Reads listings at LISTINGS_URL. */
void runService('seo', async ({ config, logger, shutdown }) => {
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'seo',
    migrations: [[SEO_MIGRATIONS, SEO_DB_SCHEMA]],
  });
  const subgraph = await createSeoSubgraph({
    config,
    db: handle.db,
    bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
    listings: createEntityClient({
      service: 'listings',
      url: () => config.LISTINGS_URL,
      internalSecret: config.INTERNAL_SECRET,
    }),
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  await consumeListingChanges({ bus, db: handle.db, seo: subgraph.seo });
  const address = await listen(subgraph.server, config.SEO_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
