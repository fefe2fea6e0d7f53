import '../../lib/telemetry';
import 'reflect-metadata';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { composeAnalytics } from './compose';
import { ANALYTICS_DB_SCHEMA, ANALYTICS_MIGRATIONS } from './db/migrations';

/**
 * The analytics subgraph on its own: `npm run start:analytics`. Sends to Google with
 * GA4_MEASUREMENT_ID and GA4_API_SECRET, else to a GA4 emulator at GA4_ENDPOINT (or on
 * GA4_EMULATOR_PORT: `npm run start:ga4-emulator`). Reads listings at LISTINGS_URL.
 */
void runService('analytics', async ({ config, logger, shutdown }) => {
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'analytics',
    migrations: [[ANALYTICS_MIGRATIONS, ANALYTICS_DB_SCHEMA]],
  });
  const subgraph = await composeAnalytics({
    config,
    db: handle.db,
    bus,
    logger,
    shutdown,
    listingsUrl: () => config.LISTINGS_URL,
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  const address = await listen(subgraph.server, config.ANALYTICS_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
