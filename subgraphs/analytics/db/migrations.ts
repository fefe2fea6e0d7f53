import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the analytics service owns, and its checked-in migrations. */
export const ANALYTICS_DB_SCHEMA = 'analytics';
export const ANALYTICS_MIGRATIONS = path.join(projectRoot(), 'subgraphs/analytics/db/migrations');
