import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the payments service owns, and its checked-in migrations. */
export const PAYMENTS_DB_SCHEMA = 'payments';
export const PAYMENTS_MIGRATIONS = path.join(projectRoot(), 'subgraphs/payments/db/migrations');
