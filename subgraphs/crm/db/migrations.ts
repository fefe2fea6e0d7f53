import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the CRM service owns, and its checked-in migrations. */
export const CRM_DB_SCHEMA = 'crm';
export const CRM_MIGRATIONS = path.join(projectRoot(), 'subgraphs/crm/db/migrations');
