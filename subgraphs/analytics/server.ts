import { serviceReadiness } from '../../lib/health';
import { metricsOptionsOf, onePerScrape, scraped } from '../../lib/metrics';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EntityClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { Logger } from '../../lib/logger';
import { providerPolicyFromConfig } from '../../lib/resilience';
import { createSubgraphServer } from '../../lib/subgraph';
import { createContext } from './context';
import { AnalyticsService } from './domain/analytics.service';
import type { Ga4Gateway } from './provider/ga4-gateway.port';
import { buildAnalyticsSchema } from './schema';

export interface AnalyticsSubgraphDeps {
  config: Config & { INTERNAL_SECRET: string };
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Secret the gateway signs the viewer header with. */
  internalSecret: string;
  gateway: Ga4Gateway;
  /** listings' `_entities`, to refuse consent for a user that does not exist. */
  listings: EntityClient;
}

/** Builds the analytics subgraph (schema, service, HTTP server) without listening: tests and both run modes use it. */
export async function createAnalyticsSubgraph(deps: AnalyticsSubgraphDeps) {
  const { config } = deps;
  const policy = providerPolicyFromConfig('ga4', config, deps.gateway, deps.logger);
  const analytics = new AnalyticsService({
    db: deps.db,
    gateway: deps.gateway,
    policy,
    listings: deps.listings,
    logger: deps.logger,
    idSecret: config.ANALYTICS_ID_SECRET ?? config.INTERNAL_SECRET,
    consentDefault: config.ANALYTICS_CONSENT_DEFAULT,
    consentWaitMs: config.ANALYTICS_CONSENT_WAIT_MS,
    validate: config.GA4_VALIDATE,
    retryBaseDelayMs: config.ANALYTICS_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: config.ANALYTICS_RETRY_MAX_DELAY_MS,
  });
  // Backlogs for the metrics, read when Prometheus scrapes.
  const backlog = onePerScrape(() => analytics.backlogCounts());
  const unregister = [
    scraped.analyticsBacklog(async () => {
      const counts = await backlog();
      return (['queued', 'held', 'failed'] as const).map((status) => ({ labels: { status }, value: counts[status] }));
    }),
    scraped.analyticsOldest(async () => [{ value: (await backlog()).oldestQueuedAgeSeconds }]),
  ];
  const schema = await buildAnalyticsSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'analytics',
    metrics: metricsOptionsOf(config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: config.MAX_BODY_BYTES,
    context: createContext({ analytics }),
    internalRateLimitPerMinute: config.INTERNAL_RATE_LIMIT_PER_MINUTE,
    readiness: serviceReadiness({ db: deps.db, bus: deps.bus, providers: { ga4: policy } }),
  });
  await apollo.start();
  return { apollo, server, analytics, policy, schema, stopMetrics: () => unregister.forEach((off) => off()) };
}
export type AnalyticsSubgraph = Awaited<ReturnType<typeof createAnalyticsSubgraph>>;
