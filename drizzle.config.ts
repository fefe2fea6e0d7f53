import { defineConfig } from 'drizzle-kit';

/**
 * `SUBGRAPH=<name> npm run db:generate` writes that subgraph's SQL migrations from its tables.
 * Each subgraph owns one Postgres schema and its own migrations folder.
 */
const subgraph = process.env.SUBGRAPH ?? 'listings';

export default defineConfig({
  dialect: 'postgresql',
  schema: `./subgraphs/${subgraph}/db/schema.ts`,
  out: `./subgraphs/${subgraph}/db/migrations`,
  schemaFilter: [subgraph],
});
