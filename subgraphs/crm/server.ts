import { serviceReadiness } from '../../lib/health';
import { metricsOptionsOf, onePerScrape, scraped } from '../../lib/metrics';
import { sql } from 'drizzle-orm';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EntityClient, InternalClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { ReadinessCheck } from '../../lib/http';
import type { Logger } from '../../lib/logger';
import { providerPolicyFromConfig } from '../../lib/resilience';
import { createSubgraphServer } from '../../lib/subgraph';
import { createContext } from './context';
import { CrmBulkSync } from './domain/bulk-sync.service';
import { CrmService } from './domain/crm.service';
import type { CrmGateway } from './provider/crm-gateway.port';
import { createListingsUserDirectory } from '../../lib/user-directory';
import { buildCrmSchema } from './schema';

export interface CrmSubgraphDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  internalSecret: string;
  gateway: CrmGateway;
  listings: EntityClient;
  payments: EntityClient;
  /** listings' GraphQL endpoint, for the admin `users` pages of the bulk sync. */
  listingsQuery: InternalClient;
  /** More readiness checks (the composition root's background start-up steps). */
  readiness?: ReadinessCheck[];
}

/** Builds the CRM subgraph without listening. */
export async function createCrmSubgraph(deps: CrmSubgraphDeps) {
  const policy = providerPolicyFromConfig('hubspot', deps.config, deps.gateway, deps.logger);
  const crm = new CrmService({
    db: deps.db,
    gateway: deps.gateway,
    policy,
    listings: deps.listings,
    payments: deps.payments,
    logger: deps.logger,
    currency: deps.config.POSTING_FEE_CURRENCY,
    maxAttempts: deps.config.CRM_MAX_ATTEMPTS,
  });
  // Backlogs for the metrics, read when Prometheus scrapes: contacts not yet in HubSpot, and a running bulk sync.
  const backlog = onePerScrape(async () => {
    const rows = (await deps.db.execute(sql`
      select sync_status as status, count(*)::int as n, extract(epoch from (now() - min(updated_at)))::float8 as age
      from crm.contacts where sync_status in ('PENDING', 'FAILED') group by sync_status`)) as unknown as {
      rows: Array<{ status: string; n: number; age: number | null }>;
    };
    const jobs = (await deps.db.execute(
      sql`select total, done from crm.sync_jobs where state = 'RUNNING'`,
    )) as unknown as { rows: Array<{ total: number; done: number }> };
    return { contacts: rows.rows, jobs: jobs.rows };
  });
  scraped.crmPending(async () => {
    const { contacts } = await backlog();
    return (['PENDING', 'FAILED'] as const).map((status) => ({
      labels: { state: status.toLowerCase() },
      value: Number(contacts.find((r) => r.status === status)?.n ?? 0),
    }));
  });
  scraped.crmOldest(async () => [
    { value: Number((await backlog()).contacts.find((r) => r.status === 'PENDING')?.age ?? 0) },
  ]);
  scraped.bulkSync(async () => {
    const [job] = (await backlog()).jobs;
    return [{ value: job && Number(job.total) > 0 ? Number(job.done) / Number(job.total) : 1 }];
  });
  const bulk = new CrmBulkSync({
    db: deps.db,
    crm,
    users: createListingsUserDirectory(deps.listingsQuery),
    logger: deps.logger,
  });
  const schema = await buildCrmSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'crm',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({ crm, bulk }),
    readiness: [
      ...serviceReadiness({ db: deps.db, bus: deps.bus, providers: { hubspot: policy } }),
      ...(deps.readiness ?? []),
    ],
  });
  await apollo.start();
  return { apollo, server, crm, bulk, policy };
}
export type CrmSubgraph = Awaited<ReturnType<typeof createCrmSubgraph>>;
