import { randomBytes } from 'node:crypto';

/** Migrates one template database for the whole run (PGlite dump, or a PostgreSQL template). */
export default async function globalSetup(): Promise<void> {
  process.env.JEST_RUN_ID = `${process.pid}-${randomBytes(3).toString('hex')}`;
  process.env.APOLLO_TELEMETRY_DISABLED = 'true';
  const { createTemplate } = await import('./test-db');
  await createTemplate();
}
