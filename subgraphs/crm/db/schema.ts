import { sql } from 'drizzle-orm';
import { index, integer, pgSchema, primaryKey, timestamp, uniqueIndex, uuid, varchar } from 'drizzle-orm/pg-core';

/** The CRM service's own Postgres schema. */
export const crmSchema = pgSchema('crm');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const SYNC_STATUSES = ['PENDING', 'SYNCED', 'FAILED'] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/**
 * One row per user the CRM should know. Events mark it PENDING; the flusher claims pending rows
 * (`FOR UPDATE SKIP LOCKED`, then `claimedUntil`), syncs them in batches (a burst of events for one
 * user is one upsert) and records the outcome against the `version` it claimed.
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
    /**
     * Bumped by every change that marks the contact PENDING. A sync records its outcome only if the
     * version is still the one it read (compare-and-set), so a change that arrives while an upsert is
     * in flight is synced again, never marked SYNCED with the older facts.
     */
    version: integer('version').notNull().default(0),
    /** A sync holds the contact until then: other flushers skip it (a crashed one's claim runs out). */
    claimedUntil: ts('claimed_until'),
  },
  (t) => [index('contacts_due_idx').on(t.nextAttemptAt).where(sql`${t.syncStatus} = 'PENDING'`)],
);

export const JOB_STATES = ['RUNNING', 'COMPLETED'] as const;
export type JobState = (typeof JOB_STATES)[number];

/**
 * A bulk sync of every user (`syncAllUsersToCrm`). It walks the users a page of 100 at a time and
 * stores its cursor and counters after each page in one statement, so a restart resumes where it
 * stopped and redoes at most one page (upserts by email: harmless). One RUNNING job at a time.
 */
export const syncJobs = crmSchema.table(
  'sync_jobs',
  {
    id: uuid('id').primaryKey(),
    state: varchar('state', { length: 10, enum: JOB_STATES }).notNull(),
    total: integer('total').notNull(),
    /** Users processed, synced or not. */
    done: integer('done').notNull().default(0),
    /** Users of `done` that did not sync in this pass (the automatic sync keeps retrying them). */
    failed: integer('failed').notNull().default(0),
    /** The listings users cursor after the last page processed; null before the first. */
    cursor: varchar('cursor', { length: 300 }),
    requestedBy: uuid('requested_by'),
    /** A runner holds the job until then; an expired lease (a crashed process) lets another take it. */
    leaseUntil: ts('lease_until'),
    /** While HubSpot or a service is unavailable: when the job tries its page again. */
    retryAt: ts('retry_at'),
    lastError: varchar('last_error', { length: 500 }),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    finishedAt: ts('finished_at'),
  },
  (t) => [uniqueIndex('sync_jobs_one_running_idx').on(t.state).where(sql`${t.state} = 'RUNNING'`)],
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
export type SyncJobRow = typeof syncJobs.$inferSelect;
