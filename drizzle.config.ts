import { defineConfig } from 'drizzle-kit';

/** `npm run db:generate` writes the listings subgraph's SQL migrations from its tables. */
export default defineConfig({
  dialect: 'postgresql',
  schema: './subgraphs/listings/db/schema.ts',
  out: './subgraphs/listings/db/migrations',
  schemaFilter: ['listings'],
});
