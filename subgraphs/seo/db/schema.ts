import { index, jsonb, primaryKey, pgSchema, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
import type { PublicListing } from '../domain/public-listing';

/** The seo service's own Postgres schema; no other service reads these tables. */
export const seoSchema = pgSchema('seo');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

/**
 * What search engines see of each listing, kept from the listing events: the public fields as last
 * read from listings, their hash, and when that hash last changed (the sitemap's lastmod).
 */
export const pages = seoSchema.table(
  'pages',
  {
    listingId: uuid('listing_id').primaryKey(),
    status: varchar('status', { length: 16 }).notNull(),
    url: text('url').notNull(),
    /** The public fields (title, description, price, category, location, seller's name, url). */
    content: jsonb('content').$type<PublicListing>().notNull(),
    /** SHA-256 of the public fields in a fixed order (publicContentHash). */
    contentHash: varchar('content_hash', { length: 64 }).notNull(),
    /** When contentHash last changed: the sitemap's lastmod. */
    contentChangedAt: ts('content_changed_at').notNull(),
    /** The listing's own updatedAt as last read: an older read never overwrites a newer one. */
    sourceUpdatedAt: ts('source_updated_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('pages_status_listing_idx').on(t.status, t.listingId)],
);

/** Inbox of events this service's consumers handled. */
export const processedEvents = seoSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export type PageRow = typeof pages.$inferSelect;
