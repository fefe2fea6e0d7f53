import '../../lib/telemetry';
import 'reflect-metadata';
import { ConfigError } from '../../lib/config';
import { createEntityClient } from '../../lib/entity-client';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { CRM_DB_SCHEMA, CRM_MIGRATIONS } from './db/migrations';
import { consumeUserChanges } from './events/user-changes.consumer';
import { startCrmFlusher } from './jobs/flush.job';
import { createHubSpotAdapter } from './provider/hubspot.adapter';
import { createCrmSubgraph } from './server';

/**
 * The CRM subgraph on its own: `npm run start:crm`. Talks to HubSpot with HUBSPOT_ACCESS_TOKEN,
 * or to a HubSpot-compatible API at HUBSPOT_API_URL (the emulator) without one.
 */
void runService('crm', async ({ config, logger, shutdown }) => {
  if (!config.HUBSPOT_ACCESS_TOKEN && !config.HUBSPOT_API_URL) {
    throw new ConfigError(['HUBSPOT_ACCESS_TOKEN: set it, or point HUBSPOT_API_URL at a HubSpot emulator (node dist/emulators/hubspot/main.js)']);
  }
  const { handle, bus } = await openServiceStore({ config, logger, shutdown, service: 'crm', migrations: [[CRM_MIGRATIONS, CRM_DB_SCHEMA]] });
  const gateway = createHubSpotAdapter({
    accessToken: config.HUBSPOT_ACCESS_TOKEN ?? 'pat-emulator',
    apiUrl: config.HUBSPOT_API_URL,
    timeoutMs: config.HUBSPOT_TIMEOUT_MS,
    logger,
  });
  await gateway.ensureProperties();
  const subgraph = await createCrmSubgraph({
    config,
    db: handle.db,
    bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
    gateway,
    listings: createEntityClient({ service: 'listings', url: () => config.LISTINGS_URL, internalSecret: config.INTERNAL_SECRET }),
    payments: createEntityClient({ service: 'payments', url: () => config.PAYMENTS_URL, internalSecret: config.INTERNAL_SECRET }),
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  await consumeUserChanges({ bus, db: handle.db, crm: subgraph.crm });
  shutdown.add('crm flusher', startCrmFlusher(subgraph.crm, logger, config.CRM_FLUSH_INTERVAL_MS));
  const address = await listen(subgraph.server, config.CRM_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
