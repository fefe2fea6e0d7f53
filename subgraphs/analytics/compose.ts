import { ga4Connection, type Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import { createEntityClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { Shutdown } from '../../lib/lifecycle';
import type { Logger } from '../../lib/logger';
import { consumeDomainEvents } from './events/domain-events.consumer';
import { startGa4Sender } from './jobs/send.job';
import { createMeasurementProtocolAdapter } from './provider/measurement-protocol.adapter';
import { createAnalyticsSubgraph, type AnalyticsSubgraph } from './server';

export interface ComposeAnalyticsOptions {
  config: Config & { INTERNAL_SECRET: string };
  db: Database;
  bus: EventBus;
  logger: Logger;
  shutdown: Shutdown;
  /** The Measurement Protocol's base URL when it is not the configured one (the embedded emulator on a free port). */
  ga4Endpoint?: string;
  /** Where listings answers (a function: embedded mode learns it after listening). */
  listingsUrl: () => string;
}

/**
 * The analytics service's parts, as both composition roots (services mode and embedded mode) build
 * them: the Measurement Protocol adapter (Google with keys, else the emulator), the subgraph, the
 * event consumer and the sender (registered for shutdown; the caller serves and stops the subgraph).
 */
export async function composeAnalytics(options: ComposeAnalyticsOptions): Promise<AnalyticsSubgraph> {
  const { config, logger, shutdown } = options;
  const stream = ga4Connection(config);
  const gateway = createMeasurementProtocolAdapter({
    endpoint: options.ga4Endpoint ?? stream.endpoint,
    measurementId: stream.measurementId,
    apiSecret: stream.apiSecret,
    timeoutMs: config.GA4_TIMEOUT_MS,
    logger,
  });
  shutdown.add('ga4 client', () => gateway.close());
  const subgraph = await createAnalyticsSubgraph({
    config,
    db: options.db,
    bus: options.bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
    gateway,
    listings: createEntityClient({
      service: 'listings',
      url: options.listingsUrl,
      internalSecret: config.INTERNAL_SECRET,
    }),
  });
  shutdown.add('analytics metrics', async () => subgraph.stopMetrics());
  await consumeDomainEvents({ bus: options.bus, db: options.db, analytics: subgraph.analytics });
  shutdown.add('ga4 sender', startGa4Sender(subgraph.analytics, logger, config.ANALYTICS_SEND_INTERVAL_MS));
  return subgraph;
}
