import { LISTINGS_DB_SCHEMA, LISTINGS_MIGRATIONS } from '../subgraphs/listings/db/migrations';
import { CRM_DB_SCHEMA, CRM_MIGRATIONS } from '../subgraphs/crm/db/migrations';
import { EMAIL_DB_SCHEMA, EMAIL_MIGRATIONS } from '../subgraphs/email/db/migrations';
import { PAYMENTS_DB_SCHEMA, PAYMENTS_MIGRATIONS } from '../subgraphs/payments/db/migrations';
import { SEO_DB_SCHEMA, SEO_MIGRATIONS } from '../subgraphs/seo/db/migrations';

/** Every service's migrations (folder, schema), in the order they run on a shared database. */
export const MIGRATIONS: Array<[folder: string, schema: string]> = [
  [LISTINGS_MIGRATIONS, LISTINGS_DB_SCHEMA],
  [PAYMENTS_MIGRATIONS, PAYMENTS_DB_SCHEMA],
  [CRM_MIGRATIONS, CRM_DB_SCHEMA],
  [EMAIL_MIGRATIONS, EMAIL_DB_SCHEMA],
  [SEO_MIGRATIONS, SEO_DB_SCHEMA],
];
