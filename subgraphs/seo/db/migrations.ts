import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the seo service owns, and its checked-in migrations. */
export const SEO_DB_SCHEMA = 'seo';
export const SEO_MIGRATIONS = path.join(projectRoot(), 'subgraphs/seo/db/migrations');
