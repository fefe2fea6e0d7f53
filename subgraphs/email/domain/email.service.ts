import { metrics } from '../../../lib/metrics';
import { randomUUID } from 'node:crypto';
import { and, asc, count, desc, eq, gt, inArray, lte, ne, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { authorize } from '../../../lib/permissions';
import type { Database, Executor } from '../../../lib/db';
import type { EventBus } from '../../../lib/events';
import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import { BadUserInputError, ConflictError, NotFoundError, ProviderUnavailableError } from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import type { UserDirectory } from '../../../lib/user-directory';
import { decodeCursor, keysetAfter, type KeysetCursor, toPage, type Page } from '../../../lib/pagination';
import { backoffDelayMs, type ProviderPolicy } from '../../../lib/resilience';
import {
  campaigns,
  messages,
  preferences,
  suppressions,
  webhookEvents,
  type CampaignRow,
  type MessageRow,
  type MessageStatus,
  type PreferencesRow,
  type SuppressionReason,
} from '../db/schema';
import type { MailGateway } from '../provider/mail-gateway.port';
import { checkTemplateData, TEMPLATES, type Renderer, type TemplateData, type TemplateName } from './templates';
import { signUnsubscribeToken, verifyUnsubscribeToken } from './unsubscribe-token';

export interface EmailDeps {
  db: Database;
  gateway: MailGateway;
  policy: ProviderPolicy;
  renderer: Renderer;
  /** listings owns User (name, email) and Listing. */
  listings: EntityClient;
  /** Every user id, for campaigns to everyone (listings' admin `users` pages). */
  users: UserDirectory;
  logger: Logger;
  /** Sender, `Name <address>`. */
  from: string;
  /** Public gateway URL for links in mail (a function: embedded mode learns it after listening). */
  publicUrl: () => string;
  unsubscribeSecret: string;
  /** How long an unsubscribe link works, days. @default 60 */
  unsubscribeTtlDays?: number;
  /** Marketing consent of a user who never set preferences. */
  marketingDefault: boolean;
  /** Confirmation mails one address may receive per hour (counted in the outbox, so across processes); 0: no limit. @default 5 */
  accountMailPerRecipientPerHour?: number;
  /** First retry delay after a provider failure, ms. @default 1000 */
  retryBaseDelayMs?: number;
  /** Longest retry delay, ms. @default 300000 */
  retryMaxDelayMs?: number;
  /** How long a claimed message stays claimed before another sender may take it, ms. @default 120000 */
  leaseMs?: number;
  /** Where a sent campaign's paging job is queued (the service's pg-boss). */
  jobs: Pick<EventBus, 'enqueueJob'>;
}

/** The job queue that queues campaigns' recipients, a page per job. */
export const CAMPAIGN_QUEUE = 'email.campaign-pages';
const CAMPAIGN_PAGE = 100;

/** A recipient the caller names: one of our users, or a bare address. */
export interface Recipient {
  userId: string | null;
  email: string;
  name?: string;
  /** Whether the user confirmed this address; a user's unconfirmed address gets only the mail that confirms it. */
  verified?: boolean;
}

/** The mails an unconfirmed address may get: the ones that carry its confirmation link. */
export const CONFIRMING_TEMPLATES: ReadonlySet<TemplateName> = new Set(['WELCOME', 'CONFIRM_EMAIL']);
/** What the email service reads about a user from listings. */
export const PERSON_FIELDS = 'id name email emailVerified';

export interface EnqueueSpec {
  /** Same key, same mail: a redelivered event or a retried request queues nothing new. */
  dedupeKey: string;
  recipient: Recipient;
  template: TemplateName;
  data: TemplateData;
  campaignId?: string;
  /** Keep the background sender off it for this long (the caller sends it itself first). */
  holdMs?: number;
}

export interface PreferencesInput {
  marketing?: boolean | null;
  accountUpdates?: boolean | null;
  newListingAlerts?: { enabled?: boolean | null; categories?: string[] | null; keywords?: string[] | null } | null;
}

export interface CampaignInput {
  name: string;
  subject: string;
  headline: string;
  body: string;
  ctaLabel?: string | null;
  ctaUrl?: string | null;
  userIds?: string[] | null;
}

export interface CampaignStats {
  recipients: number;
  queued: number;
  sent: number;
  delivered: number;
  opened: number;
  clicked: number;
  bounced: number;
  unsubscribed: number;
  suppressed: number;
  failed: number;
}

/** One event of SendGrid's event webhook (flat; our custom args at the top level). */
export type ProviderEvent = Record<string, unknown> & {
  event: string;
  email: string;
  sg_event_id?: string;
  sg_message_id?: string;
  timestamp?: number;
};

const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/;
export const isEmailAddress = (value: string): boolean => value.length <= 254 && EMAIL.test(value);

/** Later states never move back (an `open` that arrives before `delivered` still leaves OPENED). */
const RANK: Record<MessageStatus, number> = {
  QUEUED: 0,
  SENDING: 0,
  SENT: 1,
  DELIVERED: 2,
  OPENED: 3,
  CLICKED: 4,
  BOUNCED: 5,
  DROPPED: 5,
  SPAM_REPORTED: 6,
  FAILED: 7,
  SUPPRESSED: 7,
};

/** Events that move a mail forward, and the time they record. */
const PROGRESS: Record<string, { status: MessageStatus; at: 'deliveredAt' | 'openedAt' | 'clickedAt' }> = {
  delivered: { status: 'DELIVERED', at: 'deliveredAt' },
  open: { status: 'OPENED', at: 'openedAt' },
  click: { status: 'CLICKED', at: 'clickedAt' },
};

export type Person = { id: string; name: string; email: string | null; emailVerified: boolean | null };

/** A user as a recipient. */
export const recipientOf = (person: Person & { email: string }): Recipient => ({
  userId: person.id,
  email: person.email,
  name: person.name,
  verified: person.emailVerified === true,
});

/**
 * Mail for SayPro: renders templates into an outbox (one row per recipient, keyed so duplicates
 * queue nothing), sends it through SendGrid with retries and backoff, learns delivery and
 * suppression from the event webhook, and keeps users' preferences.
 */
export class EmailService {
  private readonly retryBaseDelayMs: number;
  private readonly retryMaxDelayMs: number;
  private readonly leaseMs: number;
  private readonly accountMailLimit: number;
  readonly db: Database;
  /** Called after mail is queued, so the sender does not wait for its next tick. */
  onQueued: () => void = () => undefined;

  constructor(private readonly deps: EmailDeps) {
    this.db = deps.db;
    this.retryBaseDelayMs = deps.retryBaseDelayMs ?? 1000;
    this.retryMaxDelayMs = deps.retryMaxDelayMs ?? 300_000;
    this.leaseMs = deps.leaseMs ?? 120_000;
    this.accountMailLimit = deps.accountMailPerRecipientPerHour ?? 5;
  }

  /** The outbox's backlog for the metrics (read when Prometheus scrapes): waiting mail by status, and the oldest one's age. */
  async backlog(): Promise<{ queued: number; sending: number; oldestAgeSeconds: number }> {
    const rows = await this.deps.db
      .select({ status: messages.status, n: count(), oldest: sql<string | Date | null>`min(${messages.createdAt})` })
      .from(messages)
      .where(inArray(messages.status, ['QUEUED', 'SENDING']))
      .groupBy(messages.status);
    const of = (status: string) => Number(rows.find((r) => r.status === status)?.n ?? 0);
    const oldest = rows
      .map((r) => (r.oldest ? new Date(r.oldest).getTime() : Date.now()))
      .reduce((a, b) => Math.min(a, b), Date.now());
    return { queued: of('QUEUED'), sending: of('SENDING'), oldestAgeSeconds: (Date.now() - oldest) / 1000 };
  }

  // ---------------------------------------------------------------- preferences

  defaults(userId: string): PreferencesRow {
    return {
      userId,
      marketing: this.deps.marketingDefault,
      accountUpdates: true,
      alertsEnabled: false,
      alertCategories: [],
      alertKeywords: [],
      updatedAt: new Date(0),
    };
  }

  async preferencesOf(exec: Executor, userIds: readonly string[]): Promise<Map<string, PreferencesRow>> {
    const valid = [...new Set(userIds.filter(isUuid))];
    const rows = valid.length ? await exec.select().from(preferences).where(inArray(preferences.userId, valid)) : [];
    const found = new Map(rows.map((r) => [r.userId, r]));
    return new Map(valid.map((id) => [id, found.get(id) ?? this.defaults(id)]));
  }

  /** Known users get a preferences row with the defaults (campaigns go to known users). Idempotent. */
  async rememberUser(exec: Executor, userId: string): Promise<void> {
    if (!isUuid(userId)) return;
    await exec
      .insert(preferences)
      .values({ ...this.defaults(userId), updatedAt: new Date() })
      .onConflictDoNothing();
  }

  async updatePreferences(viewer: Viewer, userId: string, input: PreferencesInput): Promise<PreferencesRow> {
    authorize(viewer, 'email.preferences.update', userId);
    const [person] = isUuid(userId)
      ? await this.deps.listings<Person>('User', [userId], PERSON_FIELDS, SYSTEM_VIEWER)
      : [null];
    if (!person) throw new NotFoundError('User', userId);
    const current = (await this.preferencesOf(this.deps.db, [userId])).get(userId)!;
    const alerts = input.newListingAlerts;
    const keywords = alerts?.keywords?.map((k) => k.trim().toLowerCase()).filter(Boolean);
    if (keywords && (keywords.length > 20 || keywords.some((k) => k.length > 50))) {
      throw new BadUserInputError(
        { field: 'newListingAlerts.keywords', message: 'at most 20 keywords of up to 50 characters' },
        'input',
      );
    }
    const next: PreferencesRow = {
      userId,
      marketing: input.marketing ?? current.marketing,
      accountUpdates: input.accountUpdates ?? current.accountUpdates,
      alertsEnabled: alerts?.enabled ?? current.alertsEnabled,
      alertCategories: alerts?.categories ? [...new Set(alerts.categories)] : current.alertCategories,
      alertKeywords: keywords ? [...new Set(keywords)] : current.alertKeywords,
      updatedAt: new Date(),
    };
    await this.deps.db
      .insert(preferences)
      .values(next)
      .onConflictDoUpdate({ target: preferences.userId, set: { ...next } });
    // Opting in again is the user's explicit wish: it lifts an unsubscribe (never a bounce or spam report).
    if (input.marketing === true && person.email) {
      await this.deps.db
        .delete(suppressions)
        .where(and(eq(suppressions.email, person.email.toLowerCase()), eq(suppressions.reason, 'UNSUBSCRIBED')));
    }
    return next;
  }

  async suppressionsOf(
    exec: Executor,
    emails: readonly string[],
  ): Promise<Map<string, { reason: SuppressionReason; createdAt: Date }>> {
    const keys = [...new Set(emails.map((e) => e.toLowerCase()))];
    if (!keys.length) return new Map();
    const rows = await exec.select().from(suppressions).where(inArray(suppressions.email, keys));
    return new Map(rows.map((r) => [r.email, { reason: r.reason, createdAt: r.createdAt }]));
  }

  // ---------------------------------------------------------------- queueing

  /** Why this mail must not go to this recipient now, or null. */
  private async blockedBecause(exec: Executor, template: TemplateName, recipient: Recipient): Promise<string | null> {
    if (recipient.userId && recipient.verified !== true && !CONFIRMING_TEMPLATES.has(template))
      return 'the user has not confirmed this address yet';
    if (
      CONFIRMING_TEMPLATES.has(template) &&
      (await this.accountMailsThisHour(exec, recipient.email)) >= this.accountMailLimit
    ) {
      return `this address was sent ${this.accountMailLimit} confirmation mails in the last hour; no more until the hour has passed`;
    }
    const kind = TEMPLATES[template].kind;
    if (kind === 'TRANSACTIONAL') return null;
    const prefs = recipient.userId
      ? (await this.preferencesOf(exec, [recipient.userId])).get(recipient.userId)
      : undefined;
    if (kind === 'ACCOUNT') return prefs && !prefs.accountUpdates ? 'the user turned account updates off' : null;
    const suppressed = (await this.suppressionsOf(exec, [recipient.email])).get(recipient.email.toLowerCase());
    if (suppressed) return `the address is suppressed (${suppressed.reason})`;
    if (template === 'NEW_LISTING_ALERT')
      return prefs && !prefs.alertsEnabled ? 'the user turned new-listing alerts off' : null;
    const marketing = prefs?.marketing ?? this.deps.marketingDefault;
    return marketing ? null : 'the user opted out of marketing mail';
  }

  /** Confirmation mails queued (not suppressed) for `email` in the last hour; 0 without a limit. */
  private async accountMailsThisHour(exec: Executor, email: string): Promise<number> {
    if (this.accountMailLimit <= 0) return -1;
    const [row] = await exec
      .select({ n: count() })
      .from(messages)
      .where(
        and(
          sql`lower(${messages.toEmail}) = lower(${email})`,
          inArray(messages.template, [...CONFIRMING_TEMPLATES]),
          ne(messages.status, 'SUPPRESSED'),
          gt(messages.createdAt, new Date(Date.now() - 3_600_000)),
        ),
      );
    return Number(row?.n ?? 0);
  }

  /**
   * Renders and stores one mail (QUEUED, or SUPPRESSED with the reason when preferences forbid it).
   * The same dedupe key returns the row already there.
   */
  async enqueue(exec: Executor, spec: EnqueueSpec): Promise<{ row: MessageRow; created: boolean }> {
    const id = randomUUID();
    const kind = TEMPLATES[spec.template].kind;
    const unsubscribeUrl = kind === 'MARKETING' ? this.unsubscribeUrl(id) : null;
    const rendered = this.deps.renderer.render(spec.template, spec.data, unsubscribeUrl ?? undefined);
    const blocked = await this.blockedBecause(exec, spec.template, spec.recipient);
    const now = new Date();
    const [inserted] = await exec
      .insert(messages)
      .values({
        id,
        dedupeKey: spec.dedupeKey.slice(0, 300),
        userId: spec.recipient.userId,
        toEmail: spec.recipient.email,
        template: spec.template,
        kind,
        campaignId: spec.campaignId ?? null,
        subject: rendered.subject,
        html: rendered.html,
        text: rendered.text,
        unsubscribeUrl,
        status: blocked ? 'SUPPRESSED' : 'QUEUED',
        lastError: blocked,
        nextAttemptAt: new Date(now.getTime() + (spec.holdMs ?? 0)),
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({ target: messages.dedupeKey })
      .returning();
    if (inserted) {
      metrics.mails.inc({ kind, status: inserted.status.toLowerCase() });
      return { row: inserted, created: true };
    }
    const [existing] = await exec
      .select()
      .from(messages)
      .where(eq(messages.dedupeKey, spec.dedupeKey.slice(0, 300)));
    return { row: existing!, created: false };
  }

  unsubscribeUrl(messageId: string): string {
    const expiresAt = new Date(Date.now() + (this.deps.unsubscribeTtlDays ?? 60) * 86_400_000);
    return `${this.deps.publicUrl().replace(/\/+$/, '')}/email/unsubscribe?token=${signUnsubscribeToken(messageId, this.deps.unsubscribeSecret, expiresAt)}`;
  }

  /** sendEmail: checks everything before anything is stored, queues, and tries SendGrid at once. Admins and the system only. */
  async sendEmail(
    viewer: Viewer,
    input: {
      userId?: string | null;
      to?: string | null;
      template: TemplateName;
      data?: Record<string, unknown> | null;
      idempotencyKey?: string | null;
    },
  ): Promise<MessageRow> {
    authorize(viewer, 'email.send');
    if (Boolean(input.userId) === Boolean(input.to))
      throw new BadUserInputError({ field: 'userId', message: 'give exactly one of userId or to' }, 'input');
    const given = { ...(input.data ?? {}) };
    let recipient: Recipient;
    if (input.userId) {
      const [person] = isUuid(input.userId)
        ? await this.deps.listings<Person>('User', [input.userId], PERSON_FIELDS, SYSTEM_VIEWER)
        : [null];
      if (!person) throw new NotFoundError('User', input.userId);
      if (!person.email || !isEmailAddress(person.email))
        throw new BadUserInputError({ field: 'userId', message: 'the user has no valid email address' }, 'input');
      recipient = recipientOf({ ...person, email: person.email });
    } else {
      const to = input.to!.trim();
      if (!isEmailAddress(to))
        throw new BadUserInputError(
          { field: 'to', message: `${JSON.stringify(to.slice(0, 80))} is not an email address` },
          'input',
        );
      recipient = { userId: null, email: to };
    }
    const data = checkTemplateData(input.template, this.withDefaults(input.template, given, recipient));
    const key = input.idempotencyKey?.trim();
    if (key !== undefined && (key.length === 0 || key.length > 200))
      throw new BadUserInputError(
        { field: 'idempotencyKey', message: 'idempotencyKey must be 1–200 characters' },
        'input',
      );
    const { row, created } = await this.enqueue(this.deps.db, {
      dedupeKey: `api:${key ?? randomUUID()}:${recipient.userId ?? recipient.email.toLowerCase()}:${input.template}`,
      recipient,
      template: input.template,
      data,
      // This request makes the first attempt; the sender takes over only if it never finishes.
      holdMs: this.leaseMs,
    });
    if (created && row.status === 'QUEUED') return (await this.deliver(row.id)) ?? (await this.message(row.id))!;
    return (await this.message(row.id))!;
  }

  /** Fields every mail can fill itself: the recipient's name, the app's URL. */
  private withDefaults(
    template: TemplateName,
    data: Record<string, unknown>,
    recipient: Recipient,
  ): Record<string, unknown> {
    const names = new Set(TEMPLATES[template].fields.map((f) => f.name));
    const out = { ...data };
    if (names.has('name') && (out.name === undefined || out.name === '') && recipient.name) out.name = recipient.name;
    if (names.has('appUrl') && out.appUrl === undefined) out.appUrl = this.deps.publicUrl();
    return out;
  }

  // ---------------------------------------------------------------- sending

  /** Sends up to `limit` due messages; returns how many were handled. Safe with several senders (rows are claimed). */
  async flush(limit = 50): Promise<number> {
    const due = this.deps.db
      .select({ id: messages.id })
      .from(messages)
      .where(and(inArray(messages.status, ['QUEUED', 'SENDING']), lte(messages.nextAttemptAt, new Date())))
      .orderBy(asc(messages.nextAttemptAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const claimed = await this.claim(inArray(messages.id, due));
    for (const row of claimed) await this.attempt(row);
    return claimed.length;
  }

  /** Sends one queued message now (sendEmail); null if another sender has it. */
  async deliver(id: string): Promise<MessageRow | null> {
    const [row] = await this.claim(and(eq(messages.id, id), eq(messages.status, 'QUEUED'))!);
    if (!row) return null;
    return this.attempt(row);
  }

  private claim(where: ReturnType<typeof eq>) {
    return this.deps.db
      .update(messages)
      .set({
        status: 'SENDING',
        attempts: sql`${messages.attempts} + 1`,
        nextAttemptAt: new Date(Date.now() + this.leaseMs),
        updatedAt: new Date(),
      })
      .where(where)
      .returning();
  }

  private async attempt(row: MessageRow): Promise<MessageRow> {
    if (row.kind !== 'TRANSACTIONAL') {
      // Preferences may have changed while it waited (an unsubscribe during an outage).
      // Only what can change while it waits: the address was confirmed when it was queued (it is fixed on the row).
      const blocked = await this.blockedBecause(this.deps.db, row.template as TemplateName, {
        userId: row.userId,
        email: row.toEmail,
        verified: true,
      });
      if (blocked) {
        metrics.mails.inc({ kind: row.kind, status: 'suppressed' });
        return this.finish(row.id, { status: 'SUPPRESSED', lastError: blocked });
      }
    }
    try {
      const { providerMessageId } = await this.deps.policy.execute(
        (attempt) =>
          this.deps.gateway.send(
            {
              to: row.toEmail,
              from: this.deps.from,
              subject: row.subject,
              html: row.html,
              text: row.text,
              headers: row.unsubscribeUrl
                ? {
                    'List-Unsubscribe': `<${row.unsubscribeUrl}>`,
                    'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
                  }
                : {},
              categories: [row.template.toLowerCase(), ...(row.campaignId ? [`campaign:${row.campaignId}`] : [])],
              customArgs: {
                saypro_message_id: row.id,
                ...(row.campaignId ? { saypro_campaign_id: row.campaignId } : {}),
              },
            },
            attempt,
          ),
        'send mail',
      );
      metrics.mails.inc({ kind: row.kind, status: 'sent' });
      const now = new Date();
      // A webhook may already have moved it on (delivered arrives fast): only SENDING becomes SENT.
      return this.finish(row.id, {
        status:
          sql`case when ${messages.status} = 'SENDING' then 'SENT' else ${messages.status} end` as unknown as MessageStatus,
        providerMessageId,
        sentAt: now,
        lastError: null,
        nextAttemptAt: now,
      });
    } catch (err) {
      const rejection = this.deps.gateway.rejectionOf(err);
      if (rejection) {
        metrics.mails.inc({ kind: row.kind, status: 'failed' });
        this.deps.logger.warn(
          { messageId: row.id, template: row.template },
          'mail refused by SendGrid; FAILED, not retried',
        );
        return this.finish(row.id, { status: 'FAILED', lastError: rejection });
      }
      metrics.mails.inc({ kind: row.kind, status: 'retried' });
      const jittered = backoffDelayMs(row.attempts, this.retryBaseDelayMs, this.retryMaxDelayMs);
      const reason =
        err instanceof ProviderUnavailableError
          ? 'SendGrid unavailable'
          : `send failed (${(err as Error)?.name ?? 'Error'})`;
      if (!(err instanceof ProviderUnavailableError))
        this.deps.logger.error(
          { messageId: row.id, error: (err as Error)?.name },
          'unexpected mail send failure; will retry',
        );
      this.deps.logger.info(
        { messageId: row.id, attempts: row.attempts, retryInMs: jittered },
        'mail queued for retry',
      );
      return this.finish(row.id, {
        status: 'QUEUED',
        lastError: `${reason}; retrying`,
        nextAttemptAt: new Date(Date.now() + jittered),
      });
    }
  }

  private async finish(id: string, set: Partial<typeof messages.$inferInsert>): Promise<MessageRow> {
    const [row] = await this.deps.db
      .update(messages)
      .set({ ...set, updatedAt: new Date() })
      .where(eq(messages.id, id))
      .returning();
    return row!;
  }

  // ---------------------------------------------------------------- reading

  async message(id: string): Promise<MessageRow | null> {
    if (!isUuid(id)) return null;
    const [row] = await this.deps.db.select().from(messages).where(eq(messages.id, id));
    return row ?? null;
  }

  async messagesOf(userId: string, limit: number, after?: string | null): Promise<Page<MessageRow>> {
    if (!isUuid(userId)) return { nodes: [], hasNextPage: false };
    const cursor: KeysetCursor | null = after ? decodeCursor(after) : null;
    const rows = await this.deps.db
      .select()
      .from(messages)
      .where(
        and(eq(messages.userId, userId), cursor ? keysetAfter(messages.createdAt, messages.id, cursor) : undefined),
      )
      .orderBy(desc(messages.createdAt), desc(messages.id))
      .limit(limit + 1);
    return toPage(rows, limit);
  }

  // ---------------------------------------------------------------- webhook and unsubscribe

  /**
   * Applies verified webhook events. Each event id is applied once (a replayed post changes
   * nothing); delivery moves the message's state forward; bounces, spam reports and unsubscribes
   * suppress the address for marketing mail. Returns how many events were new.
   */
  async applyProviderEvents(events: ProviderEvent[]): Promise<number> {
    let applied = 0;
    for (const event of events) {
      if (typeof event?.event !== 'string' || typeof event.email !== 'string') continue;
      const eventId =
        typeof event.sg_event_id === 'string' && event.sg_event_id ? event.sg_event_id.slice(0, 100) : null;
      const fresh = await this.deps.db.transaction(async (tx) => {
        const row = await this.messageForEvent(tx, event);
        if (eventId) {
          const inserted = await tx
            .insert(webhookEvents)
            .values({
              sgEventId: eventId,
              event: event.event.slice(0, 30),
              messageId: row?.id ?? null,
              receivedAt: new Date(),
            })
            .onConflictDoNothing()
            .returning({ id: webhookEvents.sgEventId });
          if (inserted.length === 0) return false;
        }
        await this.applyEvent(tx, event, row);
        return true;
      });
      if (fresh) applied++;
    }
    return applied;
  }

  private async messageForEvent(tx: Executor, event: ProviderEvent): Promise<MessageRow | null> {
    // Locked: posts of one mail's events (a retried `delivered`, then a `bounce`) may be applied concurrently.
    const ours = event.saypro_message_id;
    if (typeof ours === 'string' && isUuid(ours)) {
      const [row] = await tx.select().from(messages).where(eq(messages.id, ours)).for('update');
      if (row) return row;
    }
    const providerId = typeof event.sg_message_id === 'string' ? event.sg_message_id.split('.')[0] : undefined;
    if (!providerId) return null;
    const [row] = await tx
      .select()
      .from(messages)
      .where(eq(messages.providerMessageId, providerId.slice(0, 100)))
      .for('update');
    return row ?? null;
  }

  private async applyEvent(tx: Executor, event: ProviderEvent, row: MessageRow | null): Promise<void> {
    const at = typeof event.timestamp === 'number' ? new Date(event.timestamp * 1000) : new Date();
    const set: Partial<typeof messages.$inferInsert> = {};
    let status: MessageStatus | undefined;
    let suppress: SuppressionReason | undefined;
    const progress = PROGRESS[event.event];
    if (progress) {
      status = progress.status;
      set[progress.at] = row?.[progress.at] ?? at; // the first one counts
    }
    switch (event.event) {
      case 'bounce':
        status = 'BOUNCED';
        set.bouncedAt = row?.bouncedAt ?? at;
        set.lastError = typeof event.reason === 'string' ? event.reason.slice(0, 500) : 'bounced';
        if (event.type !== 'blocked') suppress = 'BOUNCED';
        break;
      case 'dropped':
        status = 'DROPPED';
        set.lastError = typeof event.reason === 'string' ? `dropped: ${event.reason}`.slice(0, 500) : 'dropped';
        break;
      case 'spamreport':
        status = 'SPAM_REPORTED';
        suppress = 'SPAM_REPORTED';
        break;
      case 'unsubscribe':
      case 'group_unsubscribe':
        set.unsubscribedAt = row?.unsubscribedAt ?? at;
        suppress = 'UNSUBSCRIBED';
        break;
      default:
        break; // processed, deferred, group_resubscribe: nothing to keep
    }
    if (row && (status || Object.keys(set).length)) {
      if (status && RANK[status] > RANK[row.status]) set.status = status;
      if (Object.keys(set).length)
        await tx
          .update(messages)
          .set({ ...set, updatedAt: new Date() })
          .where(eq(messages.id, row.id));
    }
    if (suppress) await this.suppress(tx, event.email, suppress, row?.userId ?? null);
  }

  /** No more marketing mail to this address (and for an unsubscribe or spam report, for this user). */
  private async suppress(tx: Executor, email: string, reason: SuppressionReason, userId: string | null): Promise<void> {
    await tx
      .insert(suppressions)
      .values({ email: email.toLowerCase().slice(0, 320), reason, createdAt: new Date() })
      .onConflictDoNothing();
    if (userId && reason !== 'BOUNCED') {
      const now = new Date();
      await tx
        .insert(preferences)
        .values({ ...this.defaults(userId), marketing: false, alertsEnabled: false, updatedAt: now })
        .onConflictDoUpdate({
          target: preferences.userId,
          set: { marketing: false, alertsEnabled: false, updatedAt: now },
        });
    }
  }

  /**
   * The one-click unsubscribe of a marketing mail's link. It acts once: a link used before answers
   * `already` and changes nothing, so it cannot undo a later opt-in. Forged, expired and non-marketing
   * links are refused.
   */
  async unsubscribe(token: string): Promise<'unsubscribed' | 'already' | 'invalid' | 'expired'> {
    const verified = verifyUnsubscribeToken(token, this.deps.unsubscribeSecret);
    if ('refused' in verified) return verified.refused;
    const { messageId } = verified;
    return this.deps.db.transaction(async (tx) => {
      const [row] = await tx.select().from(messages).where(eq(messages.id, messageId)).for('update');
      if (row?.kind !== 'MARKETING') return 'invalid';
      if (row.unsubscribedAt) return 'already';
      await tx
        .update(messages)
        .set({ unsubscribedAt: new Date(), updatedAt: new Date() })
        .where(eq(messages.id, row.id));
      await this.suppress(tx, row.toEmail, 'UNSUBSCRIBED', row.userId);
      this.deps.logger.info({ messageId }, 'unsubscribed through a mail link');
      return 'unsubscribed';
    });
  }

  // ---------------------------------------------------------------- campaigns

  async createCampaign(viewer: Viewer, input: CampaignInput): Promise<CampaignRow> {
    authorize(viewer, 'email.campaign.send');
    const name = input.name.trim();
    if (!name || name.length > 200)
      throw new BadUserInputError({ field: 'name', message: 'name must be 1–200 characters' }, 'input');
    const data = checkTemplateData('PROMOTION', {
      subject: input.subject,
      headline: input.headline,
      body: input.body,
      ctaUrl: input.ctaUrl ?? undefined,
      ctaLabel: input.ctaLabel ?? undefined,
    });
    if (data.subject!.length > 200 || data.headline!.length > 200)
      throw new BadUserInputError(
        { field: 'subject', message: 'subject and headline must be at most 200 characters' },
        'input',
      );
    const audience = input.userIds ? [...new Set(input.userIds)] : null;
    const bad = audience?.find((id) => !isUuid(id));
    if (bad !== undefined)
      throw new BadUserInputError({ field: 'userIds', message: `${bad} is not a user id` }, 'input');
    if (audience && audience.length > 10_000)
      throw new BadUserInputError(
        { field: 'userIds', message: 'at most 10000 users; leave it out to reach everyone' },
        'input',
      );
    const [row] = await this.deps.db
      .insert(campaigns)
      .values({
        id: randomUUID(),
        name,
        subject: data.subject!,
        headline: data.headline!,
        body: data.body!,
        ctaLabel: data.ctaLabel ?? null,
        ctaUrl: data.ctaUrl ?? null,
        audience,
        status: 'DRAFT',
        createdAt: new Date(),
      })
      .returning();
    return row!;
  }

  async campaign(viewer: Viewer, id: string): Promise<CampaignRow> {
    authorize(viewer, 'email.campaign.read');
    return this.campaignRow(id);
  }

  private async campaignRow(id: string): Promise<CampaignRow> {
    const [row] = isUuid(id) ? await this.deps.db.select().from(campaigns).where(eq(campaigns.id, id)) : [];
    if (!row) throw new NotFoundError('Campaign', id);
    return row;
  }

  /**
   * Starts sending: the campaign becomes SENDING and, in the same transaction, a job is queued that
   * queues its PROMOTION for every recipient a page at a time (`queueCampaignPage`), so a restart
   * resumes where it stopped. Sending twice is a CONFLICT.
   */
  async sendCampaign(viewer: Viewer, id: string): Promise<CampaignRow> {
    authorize(viewer, 'email.campaign.send');
    // Sending needs email.campaign.send only; what the payload shows is guarded on the type.
    const campaign = await this.campaignRow(id);
    const claimed = await this.deps.db.transaction(async (tx) => {
      const [row] = await tx
        .update(campaigns)
        .set({ status: 'SENDING', sentAt: new Date() })
        .where(and(eq(campaigns.id, campaign.id), eq(campaigns.status, 'DRAFT')))
        .returning();
      if (row) await this.deps.jobs.enqueueJob(tx, CAMPAIGN_QUEUE, { campaignId: row.id });
      return row;
    });
    if (!claimed) throw new ConflictError(`Campaign ${id} was already sent`, { id });
    this.deps.logger.info({ campaignId: campaign.id }, 'campaign sending');
    return claimed;
  }

  /**
   * Queues one page of a SENDING campaign's recipients (the given users, or everyone who takes
   * marketing mail), each with their own unsubscribe link; opted-out and suppressed users get a
   * SUPPRESSED row and no mail. The page's mail, the campaign's progress and the job for the next
   * page commit together. At least once per page (a crash redoes it), never twice per recipient:
   * each mail's key is the campaign and the user. Returns whether pages remain.
   */
  async queueCampaignPage(campaignId: string): Promise<boolean> {
    const [campaign] = await this.deps.db.select().from(campaigns).where(eq(campaigns.id, campaignId));
    if (!campaign || campaign.status === 'DRAFT' || campaign.queuedAt) return false;
    let ids: string[];
    let next: string | null;
    let more: boolean;
    if (campaign.audience) {
      const offset = Number(campaign.cursor ?? 0);
      ids = campaign.audience.slice(offset, offset + CAMPAIGN_PAGE);
      next = String(offset + ids.length);
      more = offset + ids.length < campaign.audience.length;
    } else {
      // Everyone who has not opted out, from the owner of User: users registered before this
      // service existed (no preferences row yet) get the default consent, not silence.
      const page = await this.deps.users(campaign.cursor, CAMPAIGN_PAGE);
      const prefs = await this.preferencesOf(this.deps.db, page.ids);
      ids = page.ids.filter((id) => prefs.get(id)?.marketing);
      next = page.endCursor ?? campaign.cursor;
      more = page.hasNextPage && page.endCursor !== null;
    }
    const people = ids.length ? await this.deps.listings<Person>('User', ids, PERSON_FIELDS, SYSTEM_VIEWER) : [];
    const data: TemplateData = {
      subject: campaign.subject,
      headline: campaign.headline,
      body: campaign.body,
      ...(campaign.ctaUrl ? { ctaUrl: campaign.ctaUrl } : {}),
      ...(campaign.ctaLabel ? { ctaLabel: campaign.ctaLabel } : {}),
    };
    const advanced = await this.deps.db.transaction(async (tx) => {
      const [current] = await tx
        .select({ cursor: campaigns.cursor })
        .from(campaigns)
        .where(eq(campaigns.id, campaign.id))
        .for('update');
      if (current?.cursor !== campaign.cursor) return false; // a redelivered job: another run queued this page already
      for (const person of people) {
        if (!person?.email || !isEmailAddress(person.email)) continue;
        await this.enqueue(tx, {
          dedupeKey: `campaign:${campaign.id}:${person.id}`,
          recipient: recipientOf({ ...person, email: person.email }),
          template: 'PROMOTION',
          data,
          campaignId: campaign.id,
        });
      }
      await tx
        .update(campaigns)
        .set({
          cursor: next,
          recipients: sql`(select count(*)::int from ${messages} where ${messages.campaignId} = ${campaign.id})`,
          ...(more ? {} : { queuedAt: new Date() }),
        })
        .where(eq(campaigns.id, campaign.id));
      if (more) await this.deps.jobs.enqueueJob(tx, CAMPAIGN_QUEUE, { campaignId: campaign.id });
      return true;
    });
    if (!advanced) return false;
    if (!more) this.deps.logger.info({ campaignId: campaign.id }, 'campaign queued');
    this.onQueued();
    return more;
  }

  async campaignStats(campaignId: string): Promise<CampaignStats> {
    const count = (cond: ReturnType<typeof sql>) => sql<number>`count(*) filter (where ${cond})::int`;
    const [row] = await this.deps.db
      .select({
        recipients: sql<number>`count(*)::int`,
        queued: count(sql`${messages.status} in ('QUEUED', 'SENDING')`),
        sent: count(sql`${messages.sentAt} is not null`),
        delivered: count(sql`${messages.deliveredAt} is not null`),
        opened: count(sql`${messages.openedAt} is not null`),
        clicked: count(sql`${messages.clickedAt} is not null`),
        bounced: count(sql`${messages.bouncedAt} is not null or ${messages.status} = 'DROPPED'`),
        unsubscribed: count(sql`${messages.unsubscribedAt} is not null`),
        suppressed: count(sql`${messages.status} = 'SUPPRESSED'`),
        failed: count(sql`${messages.status} = 'FAILED'`),
      })
      .from(messages)
      .where(eq(messages.campaignId, campaignId));
    const out = Object.fromEntries(
      Object.entries(row ?? {}).map(([k, v]) => [k, Number(v ?? 0)]),
    ) as unknown as CampaignStats;
    return out;
  }

  /** DRAFT until sent; SENDING while any of its mail waits for SendGrid; then SENT. */
  async campaignStatus(campaign: Pick<CampaignRow, 'id' | 'status'>): Promise<'DRAFT' | 'SENDING' | 'SENT'> {
    if (campaign.status === 'DRAFT') return 'DRAFT';
    if (campaign.status === 'SENT') return 'SENT';
    const [progress] = await this.deps.db
      .select({ queuedAt: campaigns.queuedAt })
      .from(campaigns)
      .where(eq(campaigns.id, campaign.id));
    if (!progress?.queuedAt) return 'SENDING'; // pages of recipients still to queue
    const stats = await this.campaignStats(campaign.id);
    if (stats.queued > 0) return 'SENDING';
    await this.deps.db.update(campaigns).set({ status: 'SENT' }).where(eq(campaigns.id, campaign.id));
    return 'SENT';
  }
}
