import { sql } from 'drizzle-orm';
import { index, integer, jsonb, primaryKey, pgSchema, text, timestamp, uuid, varchar } from 'drizzle-orm/pg-core';
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
    /** The seller's user id (not public content, not hashed): who may read `Listing.seo`. Null on rows read before it was kept. */
    sellerId: uuid('seller_id'),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [index('pages_status_listing_idx').on(t.status, t.listingId)],
);

export const SUBMISSION_STATUSES = ['PENDING', 'RETRYING', 'SUBMITTED', 'FAILED'] as const;
export type SubmissionStatus = (typeof SUBMISSION_STATUSES)[number];

/**
 * The IndexNow queue and its record, one row per listing: a publish, public change, withdrawal or
 * expiry marks it PENDING (in the transaction that changed the page, so nothing is lost), the sender
 * claims due rows of one host (`FOR UPDATE SKIP LOCKED`, then `claimedUntil`), POSTs them as one
 * batch and records the outcome against the `version` it claimed.
 */
export const indexNowUrls = seoSchema.table(
  'indexnow_urls',
  {
    listingId: uuid('listing_id').primaryKey(),
    /** The URL to submit (the page's current canonical URL) and its host (one POST per host). */
    url: text('url').notNull(),
    host: varchar('host', { length: 255 }).notNull(),
    status: varchar('status', { length: 10, enum: SUBMISSION_STATUSES }).notNull(),
    /** Failed submissions since the last success (429s excluded: they only delay). */
    attempts: integer('attempts').notNull().default(0),
    /** Not sent before then: the batch window after a change, or the backoff after a failure. */
    nextAttemptAt: ts('next_attempt_at').notNull(),
    /** When it was first queued since its last submission (batches go oldest first). */
    queuedAt: ts('queued_at').notNull(),
    /** Bumped by every change that queues it: an outcome is recorded only against the version sent. */
    version: integer('version').notNull().default(1),
    /** A sender holds the row until then; others skip it (a crashed sender's claim runs out). */
    claimedUntil: ts('claimed_until'),
    lastSubmittedAt: ts('last_submitted_at'),
    /** The URL as last accepted by IndexNow (it changes with the title's slug). */
    lastSubmittedUrl: text('last_submitted_url'),
    lastError: varchar('last_error', { length: 500 }),
    updatedAt: ts('updated_at').notNull(),
  },
  (t) => [
    index('indexnow_urls_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('PENDING', 'RETRYING')`),
    index('indexnow_urls_host_idx').on(t.host, t.queuedAt).where(sql`${t.status} in ('PENDING', 'RETRYING')`),
  ],
);

/** Per host: no submission before `notBefore` (a 429's Retry-After holds every URL of the host, not only those sent). */
export const indexNowHosts = seoSchema.table('indexnow_hosts', {
  host: varchar('host', { length: 255 }).primaryKey(),
  notBefore: ts('not_before').notNull(),
});

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
export type IndexNowUrlRow = typeof indexNowUrls.$inferSelect;
