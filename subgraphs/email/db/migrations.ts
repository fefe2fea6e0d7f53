import path from 'node:path';
import { projectRoot } from '../../../lib/data-dir';

/** The Postgres schema the email service owns, and its checked-in migrations. */
export const EMAIL_DB_SCHEMA = 'email';
export const EMAIL_MIGRATIONS = path.join(projectRoot(), 'subgraphs/email/db/migrations');
