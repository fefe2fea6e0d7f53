import { sql } from 'drizzle-orm';
import { index, integer, pgSchema, primaryKey, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';

/** The CRM service's own Postgres schema. */
export const crmSchema = pgSchema('crm');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const SYNC_STATUSES = ['PENDING', 'SYNCED', 'FAILED'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/**
 * One row per user the CRM should know. Events mark it PENDING; the flusher syncs pending rows in
 * batches (a burst of events for one user is one upsert) and records the outcome.
 */
export const contacts = crmSchema.table(
  'contacts',
  {
    userId: uuid('user_id').primaryKey(),
    hubspotId: varchar('hubspot_id', { length: 64 }),
    syncStatus: varchar('sync_status', { length: 10, enum: SYNC_STATUSES }).notNull(),
    /** Failed attempts since the last success. */
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    lastSyncedAt: ts('last_synced_at'),
    lastError: varchar('last_error', { length: 500 }),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('contacts_due_idx').on(t.nextAttemptAt).where(sql`${t.syncStatus} = 'PENDING'`)],
);

/** Inbox of bus events this service's consumers handled. */
export const processedEvents = crmSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export type ContactRow = typeof contacts.$inferSelect;
