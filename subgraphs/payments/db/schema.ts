import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgSchema,
  primaryKey,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/** The payments service's own Postgres schema. */
export const paymentsSchema = pgSchema('payments');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const PAYMENT_STATUSES = [
  'PENDING',
  'PROCESSING',
  'REQUIRES_ACTION',
  'SUCCEEDED',
  'DECLINED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];
export const PAYMENT_PROVIDERS = ['STRIPE', 'PAYPAL'] as const;
export type PaymentProvider = (typeof PAYMENT_PROVIDERS)[number];
/** Statuses that hold a listing: while one exists, no second charge for that listing may start. */
export const HOLDING_STATUSES: readonly PaymentStatus[] = [
  'PENDING',
  'PROCESSING',
  'REQUIRES_ACTION',
  'SUCCEEDED',
  'PARTIALLY_REFUNDED',
  'REFUNDED',
];

/**
 * One row per charge attempt, written (PENDING) before the provider is called and updated after.
 * `providerIdempotencyKey` is sent on every provider attempt, so retries and resumes never charge twice.
 */
export const payments = paymentsSchema.table(
  'payments',
  {
    id: uuid('id').primaryKey(),
    listingId: uuid('listing_id').notNull(),
    userId: uuid('user_id').notNull(),
    amount: integer('amount').notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    paymentMethodId: varchar('payment_method_id', { length: 255 }).notNull(),
    status: varchar('status', { length: 20, enum: PAYMENT_STATUSES }).notNull(),
    /** Who took it: a Stripe charge (providerReference a PaymentIntent) or a PayPal checkout (providerReference the order). */
    provider: varchar('provider', { length: 10, enum: PAYMENT_PROVIDERS }).notNull().default('STRIPE'),
    /** The client's key for this charge request (scoped to the user). */
    clientIdempotencyKey: varchar('client_idempotency_key', { length: 255 }).notNull(),
    providerIdempotencyKey: varchar('provider_idempotency_key', { length: 255 }).notNull(),
    providerReference: varchar('provider_reference', { length: 255 }),
    declineCode: varchar('decline_code', { length: 100 }),
    declineMessage: varchar('decline_message', { length: 500 }),
    amountRefunded: integer('amount_refunded').notNull().default(0),
    attempts: integer('attempts').notNull().default(0),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    succeededAt: ts('succeeded_at'),
  },
  (t) => [
    check('payments_amount_check', sql`${t.amount} > 0`),
    uniqueIndex('payments_user_idempotency_key').on(t.userId, t.clientIdempotencyKey),
    uniqueIndex('payments_provider_reference_key').on(t.providerReference),
    // At most one live payment per listing: the database, not a check-then-act, stops a double charge.
    // A wholly refunded one no longer holds the listing (one paid at an old, lower fee is refunded and paid anew).
    uniqueIndex('payments_one_live_per_listing')
      .on(t.listingId)
      .where(sql`${t.status} in ('PENDING', 'PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'PARTIALLY_REFUNDED')`),
    index('payments_listing_created_idx').on(t.listingId, t.createdAt.desc()),
    index('payments_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
    index('payments_pending_idx').on(t.status, t.updatedAt).where(sql`${t.status} = 'PENDING'`),
  ],
);

export const refunds = paymentsSchema.table(
  'refunds',
  {
    id: uuid('id').primaryKey(),
    paymentId: uuid('payment_id')
      .notNull()
      .references(() => payments.id),
    amount: integer('amount').notNull(),
    providerReference: varchar('provider_reference', { length: 255 }),
    /** Sent to the provider on every attempt; unique, so a repeated automatic refund reuses its row. */
    idempotencyKey: varchar('idempotency_key', { length: 255 }),
    status: varchar('status', { length: 20 }).notNull(),
    requestedBy: uuid('requested_by'),
    createdAt: ts('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('refunds_provider_reference_key').on(t.providerReference),
    uniqueIndex('refunds_idempotency_key').on(t.idempotencyKey),
    index('refunds_payment_idx').on(t.paymentId),
  ],
);

/** Provider webhook events already processed: Stripe delivers at least once. */
export const webhookEvents = paymentsSchema.table('webhook_events', {
  id: varchar('id', { length: 255 }).primaryKey(),
  type: varchar('type', { length: 100 }).notNull(),
  receivedAt: ts('received_at').notNull(),
});

/** Inbox of bus events this service's consumers handled. */
export const processedEvents = paymentsSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export type PaymentRow = typeof payments.$inferSelect;
export type RefundRow = typeof refunds.$inferSelect;
