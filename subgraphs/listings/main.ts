import '../../lib/telemetry';
import 'reflect-metadata';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { LISTINGS_DB_SCHEMA, LISTINGS_MIGRATIONS } from './db/migrations';
import { consumePaymentSucceeded } from './events/payment-succeeded.consumer';
import { startExpirySweeper } from './jobs/expiry.job';
import { createListingsSubgraph } from './server';

/** The listings subgraph on its own: `npm run start:listings`. PostgreSQL via DATABASE_URL (or PGlite in DATA_DIR). */
void runService('listings', async ({ config, logger, shutdown }) => {
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'listings',
    migrations: [[LISTINGS_MIGRATIONS, LISTINGS_DB_SCHEMA]],
  });
  const subgraph = await createListingsSubgraph({
    config,
    db: handle.db,
    bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  shutdown.add('expiry sweeper', startExpirySweeper(subgraph.listings, logger));
  await consumePaymentSucceeded({ bus, db: handle.db, listings: subgraph.listings, logger });
  const address = await listen(subgraph.server, config.LISTINGS_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
