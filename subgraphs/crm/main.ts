import '../../lib/telemetry';
import 'reflect-metadata';
import { ConfigError } from '../../lib/config';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { CRM_DB_SCHEMA, CRM_MIGRATIONS } from './db/migrations';
import { composeCrm } from './compose';

/**
 * The CRM subgraph on its own: `npm run start:crm`. Talks to HubSpot with HUBSPOT_ACCESS_TOKEN,
 * or to a HubSpot-compatible API at HUBSPOT_API_URL (the emulator) without one.
 */
void runService('crm', async ({ config, logger, shutdown }) => {
  if (!config.HUBSPOT_ACCESS_TOKEN && !config.HUBSPOT_API_URL) {
    throw new ConfigError([
      'HUBSPOT_ACCESS_TOKEN: set it, or point HUBSPOT_API_URL at a HubSpot emulator (node dist/emulators/hubspot/main.js)',
    ]);
  }
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'crm',
    migrations: [[CRM_MIGRATIONS, CRM_DB_SCHEMA]],
  });
  const subgraph = await composeCrm({
    config,
    db: handle.db,
    bus,
    logger,
    shutdown,
    internalSecret: config.INTERNAL_SECRET,
    hubspotApiUrl: config.HUBSPOT_API_URL,
    listingsUrl: () => config.LISTINGS_URL,
    paymentsUrl: () => config.PAYMENTS_URL,
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  const address = await listen(subgraph.server, config.CRM_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
