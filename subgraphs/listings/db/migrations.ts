import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the listings service owns, and its checked-in migrations. */
export const LISTINGS_DB_SCHEMA = 'listings';
export const LISTINGS_MIGRATIONS = path.join(projectRoot(), 'subgraphs/listings/db/migrations');
