import type { DatabaseHandle } from '../lib/db';
import { createEventBus } from '../lib/events';
import { createLogger } from '../lib/logger';
import { LISTINGS_DB_SCHEMA, LISTINGS_MIGRATIONS } from '../subgraphs/listings/db/migrations';
import { CRM_DB_SCHEMA, CRM_MIGRATIONS } from '../subgraphs/crm/db/migrations';
import { EMAIL_DB_SCHEMA, EMAIL_MIGRATIONS } from '../subgraphs/email/db/migrations';
import { PAYMENTS_DB_SCHEMA, PAYMENTS_MIGRATIONS } from '../subgraphs/payments/db/migrations';
import { SEO_DB_SCHEMA, SEO_MIGRATIONS } from '../subgraphs/seo/db/migrations';
import { ANALYTICS_DB_SCHEMA, ANALYTICS_MIGRATIONS } from '../subgraphs/analytics/db/migrations';

/** Every service's migrations (folder, schema), in the order they run on a shared database. */
export const MIGRATIONS: Array<[folder: string, schema: string]> = [
  [LISTINGS_MIGRATIONS, LISTINGS_DB_SCHEMA],
  [PAYMENTS_MIGRATIONS, PAYMENTS_DB_SCHEMA],
  [CRM_MIGRATIONS, CRM_DB_SCHEMA],
  [EMAIL_MIGRATIONS, EMAIL_DB_SCHEMA],
  [SEO_MIGRATIONS, SEO_DB_SCHEMA],
  [ANALYTICS_MIGRATIONS, ANALYTICS_DB_SCHEMA],
];

/**
 * Installs everything the services need into a database: each subgraph's migrations and pg-boss's
 * schema (what the embedded stack does on every start, without starting pg-boss's supervisor).
 */
export async function migrateAll(handle: DatabaseHandle): Promise<void> {
  for (const [folder, schema] of MIGRATIONS) await handle.migrate(folder, schema);
  const bus = await createEventBus({
    handle,
    source: 'migrate',
    logger: createLogger({ level: 'silent' }),
    supervise: false,
  });
  await bus.stop();
}
