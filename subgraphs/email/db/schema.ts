import { sql } from 'drizzle-orm';
import {
  boolean,
  index,
  integer,
  jsonb,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from 'drizzle-orm/pg-core';

/** The email service's own Postgres schema. */
export const emailSchema = pgSchema('email');

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date', precision: 3 });

export const MESSAGE_STATUSES = [
  'QUEUED',
  'SENDING',
  'SENT',
  'DELIVERED',
  'OPENED',
  'CLICKED',
  'BOUNCED',
  'DROPPED',
  'SPAM_REPORTED',
  'FAILED',
  'SUPPRESSED',
] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];
export const MAIL_KINDS = ['TRANSACTIONAL', 'ACCOUNT', 'MARKETING'] as const;
export type MailKind = (typeof MAIL_KINDS)[number];

/**
 * One row per mail to one recipient: the outbox. It is written (rendered) before SendGrid is
 * called; `dedupe_key` (event id or caller key, recipient, template) makes a redelivered event or a
 * retried request a no-op. The sender claims due QUEUED rows, and rows stuck in SENDING past their
 * lease (a crashed sender) are claimed again.
 */
export const messages = emailSchema.table(
  'messages',
  {
    id: uuid('id').primaryKey(),
    dedupeKey: varchar('dedupe_key', { length: 300 }).notNull(),
    userId: uuid('user_id'),
    toEmail: varchar('to_email', { length: 320 }).notNull(),
    template: varchar('template', { length: 40 }).notNull(),
    kind: varchar('kind', { length: 14, enum: MAIL_KINDS }).notNull(),
    campaignId: uuid('campaign_id'),
    subject: varchar('subject', { length: 300 }).notNull(),
    html: text('html').notNull(),
    text: text('text').notNull(),
    /** One-click unsubscribe URL (marketing mail only). */
    unsubscribeUrl: text('unsubscribe_url'),
    status: varchar('status', { length: 16, enum: MESSAGE_STATUSES }).notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: ts('next_attempt_at').notNull(),
    providerMessageId: varchar('provider_message_id', { length: 100 }),
    lastError: varchar('last_error', { length: 500 }),
    createdAt: ts('created_at').notNull(),
    updatedAt: ts('updated_at').notNull(),
    sentAt: ts('sent_at'),
    deliveredAt: ts('delivered_at'),
    openedAt: ts('opened_at'),
    clickedAt: ts('clicked_at'),
    bouncedAt: ts('bounced_at'),
    unsubscribedAt: ts('unsubscribed_at'),
  },
  (t) => [
    uniqueIndex('messages_dedupe_key_idx').on(t.dedupeKey),
    index('messages_due_idx').on(t.nextAttemptAt).where(sql`${t.status} in ('QUEUED', 'SENDING')`),
    index('messages_user_idx').on(t.userId, t.createdAt, t.id),
    index('messages_campaign_idx').on(t.campaignId),
    index('messages_provider_idx').on(t.providerMessageId),
    // Account mail (confirmation links, address notices) per recipient and hour.
    index('messages_account_recipient_idx')
      .on(sql`lower(${t.toEmail})`, t.createdAt)
      .where(sql`${t.template} in ('WELCOME', 'CONFIRM_EMAIL')`),
  ],
);

/** What each user wants to receive. A missing row means the defaults. */
export const preferences = emailSchema.table('preferences', {
  userId: uuid('user_id').primaryKey(),
  marketing: boolean('marketing').notNull(),
  accountUpdates: boolean('account_updates').notNull(),
  alertsEnabled: boolean('alerts_enabled').notNull(),
  /** Categories an alert matches; empty: every category. */
  alertCategories: jsonb('alert_categories').$type<string[]>().notNull(),
  /** Words one of which must appear in the title or description; empty: any listing. */
  alertKeywords: jsonb('alert_keywords').$type<string[]>().notNull(),
  updatedAt: ts('updated_at').notNull(),
});

export const SUPPRESSION_REASONS = ['UNSUBSCRIBED', 'BOUNCED', 'SPAM_REPORTED'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

/** Addresses that get no more marketing mail, learned from the event webhook and unsubscribe links. */
export const suppressions = emailSchema.table('suppressions', {
  /** Lower-cased address. */
  email: varchar('email', { length: 320 }).primaryKey(),
  reason: varchar('reason', { length: 14, enum: SUPPRESSION_REASONS }).notNull(),
  createdAt: ts('created_at').notNull(),
});

export const CAMPAIGN_STATUSES = ['DRAFT', 'SENDING', 'SENT'] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

/** A marketing campaign: one PROMOTION to many users, each mail its own outbox row. */
export const campaigns = emailSchema.table('campaigns', {
  id: uuid('id').primaryKey(),
  name: varchar('name', { length: 200 }).notNull(),
  subject: varchar('subject', { length: 200 }).notNull(),
  headline: varchar('headline', { length: 200 }).notNull(),
  body: text('body').notNull(),
  ctaLabel: varchar('cta_label', { length: 100 }),
  ctaUrl: varchar('cta_url', { length: 2000 }),
  /** Only these users; every user who takes marketing mail when null. */
  audience: jsonb('audience').$type<string[] | null>(),
  status: varchar('status', { length: 10, enum: CAMPAIGN_STATUSES }).notNull(),
  recipients: integer('recipients').notNull().default(0),
  createdAt: ts('created_at').notNull(),
  sentAt: ts('sent_at'),
  /**
   * Where queueing its recipients has got to (a page at a time, by a job): the users cursor, or for
   * an `audience` the offset reached. Stored with each page's mail, so a restart resumes after it.
   */
  cursor: varchar('cursor', { length: 300 }),
  /** When the last page was queued; null while pages remain. */
  queuedAt: ts('queued_at'),
});

/** Event webhook events already applied, by SendGrid's sg_event_id: a replay changes nothing. */
export const webhookEvents = emailSchema.table('webhook_events', {
  sgEventId: varchar('sg_event_id', { length: 100 }).primaryKey(),
  event: varchar('event', { length: 30 }).notNull(),
  messageId: uuid('message_id'),
  receivedAt: ts('received_at').notNull(),
});

/** Inbox of bus events this service's consumers handled. */
export const processedEvents = emailSchema.table(
  'processed_events',
  {
    consumer: varchar('consumer', { length: 100 }).notNull(),
    eventId: uuid('event_id').notNull(),
    processedAt: ts('processed_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.consumer, t.eventId] })],
);

export type MessageRow = typeof messages.$inferSelect;
export type PreferencesRow = typeof preferences.$inferSelect;
export type CampaignRow = typeof campaigns.$inferSelect;
