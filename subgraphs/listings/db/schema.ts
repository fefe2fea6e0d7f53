import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/** The listings service's own Postgres schema; no other service reads these tables. */
export const listingsSchema = pgSchema('listings');

// Timestamps are set from JS (millisecond precision) so that cursors built from them compare exactly.
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const users = listingsSchema.table(
  'users',
  {
    id: uuid('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull(),
    email: varchar('email', { length: 254 }).notNull(),
    /** When the user proved they read `email` (the link in the welcome or confirmation mail); null until then. */
    emailVerifiedAt: ts('email_verified_at'),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    // An address counts once confirmed: one account per confirmed address. Unconfirmed ones may
    // repeat (nobody can squat an address, and registering answers the same whether it is taken).
    uniqueIndex('users_verified_email_key').on(sql`lower(${t.email})`).where(sql`${t.emailVerifiedAt} is not null`),
    index('users_email_lower_idx').on(sql`lower(${t.email})`),
  ],
);

export const LISTING_STATUSES = ['DRAFT', 'PENDING_PAYMENT', 'ACTIVE', 'EXPIRED', 'WITHDRAWN'] as const;

export const listings = listingsSchema.table(
  'listings',
  {
    id: uuid('id').primaryKey(),
    sellerId: uuid('seller_id')
      .notNull()
      .references(() => users.id),
    title: varchar('title', { length: 120 }).notNull(),
    description: text('description').notNull(),
    priceAmount: integer('price_amount').notNull(),
    currency: varchar('currency', { length: 3 }).notNull(),
    category: varchar('category', { length: 32 }).notNull(),
    location: varchar('location', { length: 120 }).notNull(),
    status: varchar('status', { length: 16, enum: LISTING_STATUSES }).notNull(),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    publishedAt: ts('published_at'),
    expiresAt: ts('expires_at'),
  },
  (t) => [
    check('listings_price_amount_check', sql`${t.priceAmount} >= 0`),
    check('listings_status_check', sql`${t.status} in ('DRAFT', 'PENDING_PAYMENT', 'ACTIVE', 'EXPIRED', 'WITHDRAWN')`),
    index('listings_status_created_idx').on(t.status, t.createdAt.desc(), t.id.desc()),
    index('listings_seller_created_idx').on(t.sellerId, t.createdAt.desc(), t.id.desc()),
    index('listings_category_created_idx').on(t.category, t.createdAt.desc(), t.id.desc()),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type ListingRow = typeof listings.$inferSelect;
export type ListingStatus = (typeof LISTING_STATUSES)[number];

/** Inbox of events this service's consumers handled: an event id recorded here has had its effect. */
export const processedEvents = listingsSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

/**
 * API keys for server-to-server clients. Only the SHA-256 of a key is stored (keys carry 256 bits
 * of randomness, so a fast hash is enough); `prefix` is the visible start, to tell keys apart.
 */
export const apiKeys = listingsSchema.table(
  'api_keys',
  {
    id: uuid('id').primaryKey(),
    name: varchar('name', { length: 100 }).notNull(),
    prefix: varchar('prefix', { length: 20 }).notNull(),
    hash: varchar('hash', { length: 64 }).notNull(),
    scopes: text('scopes').array().notNull(),
    createdBy: varchar('created_by', { length: 128 }),
    createdAt: ts('created_at').notNull(),
    revokedAt: ts('revoked_at'),
  },
  (t) => [uniqueIndex('api_keys_hash_key').on(t.hash)],
);
export type ApiKeyRow = typeof apiKeys.$inferSelect;
