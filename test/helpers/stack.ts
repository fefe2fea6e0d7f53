import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { mintToken, type Role } from '../../lib/auth';
import { loadConfig } from '../../lib/config';
import { createLogger } from '../../lib/logger';
import { createShutdown } from '../../lib/lifecycle';
import { startEmbedded, type EmbeddedConfig, type EmbeddedStack } from '../../embedded/stack';
import { ENGINE_UNDER_TEST } from './engine';
import { createGraphClient, type GraphClient } from './graph-client';
import { createTestDatabase } from './test-db';

export interface TestStack extends EmbeddedStack {
  config: EmbeddedConfig;
  /** Typed client calling the gateway. */
  graph: GraphClient;
  /** Typed client calling the listings subgraph directly (no viewer header unless given). */
  listingsDirect: GraphClient;
  token: (userId: string, roles?: Role[]) => Promise<string>;
  /** SQL statements drizzle ran, since the last reset. */
  queries: string[];
  /** Every log line written, parsed. */
  logs: Array<Record<string, unknown>>;
  stop: () => Promise<void>;
}

/** The whole embedded graph on free loopback ports, on this test file's own database. */
export async function startTestStack(env: Record<string, string> = {}): Promise<TestStack> {
  const queries: string[] = [];
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const base = loadConfig({ NODE_ENV: 'test', LOG_LEVEL: 'info', GATEWAY_ENGINE: ENGINE_UNDER_TEST, ...env });
  const config = {
    ...base,
    JWT_SECRET: randomBytes(32).toString('hex'),
    INTERNAL_SECRET: randomBytes(32).toString('hex'),
    STRIPE_WEBHOOK_SECRET: `whsec_${randomBytes(16).toString('hex')}`,
  };
  const logger = createLogger({ level: config.LOG_LEVEL, destination: sink });
  const shutdown = createShutdown(logger);
  const handle = await createTestDatabase({ onQuery: (q) => queries.push(q) });
  shutdown.add('test database', () => handle.close());
  const stack = await startEmbedded({
    config,
    handle,
    logger,
    shutdown,
    ports: {
      gateway: 0,
      listings: 0,
      payments: 0,
      crm: 0,
      email: 0,
      stripe: 0,
      hubspot: 0,
      sendgrid: 0,
      paypal: 0,
      indexnow: 0,
      metrics: 0,
      seo: 0,
      analytics: 0,
      ga4: 0,
    },
  });
  return {
    ...stack,
    config,
    graph: createGraphClient(stack.urls.gateway),
    listingsDirect: createGraphClient(stack.urls.subgraphs.listings!),
    token: (userId, roles = ['user']) => mintToken({ secret: config.JWT_SECRET, userId, roles }),
    queries,
    logs,
    stop: () => shutdown.shutdown('test done'),
  };
}
