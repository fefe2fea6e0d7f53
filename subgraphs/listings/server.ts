import { serviceReadiness } from '../../lib/health';
import { metricsOptionsOf } from '../../lib/metrics';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EventBus } from '../../lib/events';
import type { Logger } from '../../lib/logger';
import { createFixedWindowLimiter } from '../../lib/rate-limiter';
import { createSubgraphServer } from '../../lib/subgraph';
import { createContext } from './context';
import { ApiKeysService } from './domain/api-keys.service';
import { ListingsService } from './domain/listings.service';
import { API_KEY_VERIFY_PATH, createApiKeyVerifyRoute } from './routes/api-key-verify.route';
import { UsersService } from './domain/users.service';
import { buildListingsSchema } from './schema';

export interface ListingsSubgraphDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  /** Secret the gateway signs the viewer header with. */
  internalSecret: string;
}

/** Builds the listings subgraph (schema, services, HTTP server) without listening: tests and both run modes use it. */
export async function createListingsSubgraph(deps: ListingsSubgraphDeps) {
  const perAddress =
    deps.config.ACCOUNT_EMAIL_LIMIT_PER_HOUR > 0
      ? createFixedWindowLimiter({ limit: deps.config.ACCOUNT_EMAIL_LIMIT_PER_HOUR, windowMs: 3_600_000 })
      : undefined;
  const users = new UsersService(deps.db, deps.bus, perAddress);
  const listings = new ListingsService(deps.db, deps.bus, deps.config);
  const apiKeys = new ApiKeysService(deps.db, { live: deps.config.NODE_ENV === 'production', logger: deps.logger });
  const schema = await buildListingsSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'listings',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({
      users,
      listings,
      apiKeys,
      bus: deps.bus,
      emailConfirmationSecret: deps.internalSecret,
      siteUrl: deps.config.SITE_URL,
    }),
    routes: { [API_KEY_VERIFY_PATH]: createApiKeyVerifyRoute(apiKeys, deps.internalSecret) },
    internalRateLimitPerMinute: deps.config.INTERNAL_RATE_LIMIT_PER_MINUTE,
    readiness: [...serviceReadiness({ db: deps.db, bus: deps.bus })],
  });
  await apollo.start();
  return { apollo, server, users, listings, apiKeys, schema };
}
export type ListingsSubgraph = Awaited<ReturnType<typeof createListingsSubgraph>>;
