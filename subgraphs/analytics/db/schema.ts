import { sql } from 'drizzle-orm';
import { boolean, index, integer, jsonb, pgSchema, primaryKey, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import type { Ga4Event, ValidationMessage } from '../provider/ga4-gateway.port';

/** The analytics service's own Postgres schema; no other service reads these tables. */
export const analyticsSchema = pgSchema('analytics');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/** A user's analytics decision. No row: ANALYTICS_CONSENT_DEFAULT applies. */
export const consents = analyticsSchema.table('consents', {
  userId: uuid('user_id').primaryKey(),
  granted: boolean('granted').notNull(),
  /** Who decided: the user themself, or an admin on their behalf. */
  decidedBy: uuid('decided_by'),
  updatedAt: ts('updated_at').notNull(),
});

export const OUTBOX_STATUSES = ['HELD', 'QUEUED', 'SENT', 'VALIDATED', 'FAILED'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/**
 * One GA4 event per domain event, keyed by the domain event's id (a redelivered event inserts
 * nothing). Written in the consumer's inbox transaction; the sender claims QUEUED rows (`FOR UPDATE
 * SKIP LOCKED`, then `claimedUntil`), sends them in requests of up to 25 per client id, and records
 * the outcome. HELD: the user has not decided on consent yet; their decision releases or drops it.
 */
export const outbox = analyticsSchema.table(
  'outbox',
  {
    eventId: uuid('event_id').primaryKey(),
    userId: uuid('user_id').notNull(),
    /** The pseudonymous GA4 client_id (and user_id): HMAC of our user id, never the id itself. */
    clientId: varchar('client_id', { length: 64 }).notNull(),
    /** The GA4 event as sent: name and params. */
    event: jsonb('event').$type<Ga4Event>().notNull(),
    status: varchar('status', { length: 10, enum: OUTBOX_STATUSES }).notNull(),
    /** When the domain event happened: GA4's timestamp_micros, and its 72-hour window. */
    occurredAt: ts('occurred_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** A sender holds the row until then: other senders skip it (a crashed one's claim runs out). */
    claimedUntil: ts('claimed_until'),
    sentAt: ts('sent_at'),
    lastError: varchar('last_error', { length: 500 }),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    index('outbox_due_idx').on(t.nextAttemptAt).where(sql`${t.status} = 'QUEUED'`),
    index('outbox_user_idx').on(t.userId, t.status),
  ],
);

/** One Measurement Protocol request, as sent and as answered (the admin view's recent deliveries). */
export const deliveries = analyticsSchema.table(
  'deliveries',
  {
    id: uuid('id').primaryKey(),
    clientId: varchar('client_id', { length: 64 }).notNull(),
    eventIds: jsonb('event_ids').$type<string[]>().notNull(),
    eventNames: jsonb('event_names').$type<string[]>().notNull(),
    /** The HTTP status; null when no answer came. */
    status: integer('status'),
    /** Sent to `/debug/mp/collect` (GA4_VALIDATE). */
    validation: boolean('validation').notNull(),
    validationMessages: jsonb('validation_messages').$type<ValidationMessage[]>().notNull(),
    error: varchar('error', { length: 500 }),
    durationMs: integer('duration_ms').notNull(),
    sentAt: ts('sent_at').notNull(),
  },
  (t) => [index('deliveries_sent_idx').on(t.sentAt)],
);

/** What has been refunded of each payment so far (refund events carry a running total; GA4 wants each refund's own value). */
export const refundTotals = analyticsSchema.table('refund_totals', {
  paymentId: uuid('payment_id').primaryKey(),
  refunded: integer('refunded').notNull(),
});

/** Inbox of events this service's consumers handled. */
export const processedEvents = analyticsSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export type ConsentRow = typeof consents.$inferSelect;
export type OutboxRow = typeof outbox.$inferSelect;
export type DeliveryRow = typeof deliveries.$inferSelect;
