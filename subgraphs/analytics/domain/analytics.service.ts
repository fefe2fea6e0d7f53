import { randomUUID } from 'node:crypto';
import { and, asc, desc, eq, inArray, isNull, lt, lte, notInArray, or, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import type { Database, Executor } from '../../../lib/db';
import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import { BadUserInputError, NotFoundError } from '../../../lib/errors';
import type { EventEnvelope } from '../../../lib/events';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import { metrics } from '../../../lib/metrics';
import { authorize } from '../../../lib/permissions';
import { backoffDelayMs, type ProviderPolicy } from '../../../lib/resilience';
import {
  consents,
  deliveries,
  outbox,
  refundTotals,
  type ConsentRow,
  type DeliveryRow,
  type OutboxRow,
} from '../db/schema';
import {
  GA4_LIMITS,
  Ga4Error,
  type Ga4Gateway,
  type Ga4Payload,
  type ValidationMessage,
} from '../provider/ga4-gateway.port';
import { ga4EventOf, type AnalyticsEventName } from './event-mapping';
import { pseudonymOf } from './pseudonym';

export interface AnalyticsDeps {
  db: Database;
  gateway: Ga4Gateway;
  policy: ProviderPolicy;
  /** listings owns User: setAnalyticsConsent refuses a user it does not know. */
  listings: EntityClient;
  logger: Logger;
  /** HMAC secret of the pseudonymous client ids. */
  idSecret: string;
  /** A user's consent until they decide. */
  consentDefault: 'granted' | 'denied';
  /** How long an undecided user's events wait for their decision under a `denied` default, ms. */
  consentWaitMs: number;
  /** Send to `/debug/mp/collect` (GA4_VALIDATE). */
  validate: boolean;
  retryBaseDelayMs: number;
  retryMaxDelayMs: number;
  /**
   * How long a sender holds the events it claimed before another may take them, ms; it starts
   * requests only in the first half, so keep it above twice the slowest request (every retry
   * timing out). @default 120000
   */
  claimMs?: number;
}

/** A user's consent as the graph shows it: the default applies while `decidedAt` is null. */
export interface Consent {
  userId: string;
  granted: boolean;
  decidedAt: Date | null;
}

export interface Backlog {
  queued: number;
  held: number;
  failed: number;
  oldestQueuedAgeSeconds: number;
  validation: boolean;
  lastValidationMessages: ValidationMessage[];
  recentDeliveries: DeliveryRow[];
}

/** Events one sender claims per round (then grouped per client id, 25 a request). */
const CLAIM_LIMIT = 500;
/** Only analytics was consented to: the consent block tells GA4 that ads may not use these events. */
const NO_ADS = { ad_user_data: 'DENIED', ad_personalization: 'DENIED' } as const;

/**
 * Domain events → GA4 Measurement Protocol events, exactly once from our side. `record` runs in the
 * consumer's inbox transaction and stores the GA4 event keyed by the domain event's id (a
 * redelivered event stores nothing); `flush` claims what is due, sends it 25 events per request per
 * client id, and records each request's outcome (a failure waits with the shared backoff and is
 * sent again; a success is never sent again). Consent is checked when the event is recorded and
 * again when the user decides: without it nothing is stored to send, only counted.
 */
export class AnalyticsService {
  private readonly claimMs: number;

  constructor(private readonly deps: AnalyticsDeps) {
    this.claimMs = deps.claimMs ?? 120_000;
  }

  /** The GA4 client id (and user id) of one of our users. */
  clientIdOf(userId: string): string {
    return pseudonymOf(userId, this.deps.idSecret);
  }

  /**
   * Turns one domain event into its queued GA4 event, in `tx` (the consumer's inbox transaction).
   * Returns what became of it.
   */
  async record(
    tx: Executor,
    event: EventEnvelope<AnalyticsEventName>,
  ): Promise<'queued' | 'held' | 'dropped' | 'ignored'> {
    const mapped = ga4EventOf(event, { refundedBefore: await this.refundedBefore(tx, event) });
    if (!mapped || !isUuid(mapped.userId)) return 'ignored';
    const name = mapped.event.name;
    const [decision] = await tx.select().from(consents).where(eq(consents.userId, mapped.userId));
    const granted = decision ? decision.granted : this.deps.consentDefault === 'granted';
    // Undecided under a `denied` default: the event waits a while for the decision (the registration form's
    // consent choice lands just after user.created), then is dropped unsent.
    const waits = !decision && !granted && this.deps.consentWaitMs > 0;
    if (!granted && !waits) {
      metrics.analyticsEvents.inc({ event: name, outcome: 'dropped' });
      return 'dropped';
    }
    const now = new Date();
    const status = granted ? 'QUEUED' : 'HELD';
    await tx
      .insert(outbox)
      .values({
        eventId: event.id,
        userId: mapped.userId,
        clientId: this.clientIdOf(mapped.userId),
        event: mapped.event,
        status,
        occurredAt: new Date(event.occurredAt),
        nextAttemptAt: now,
        createdAt: now,
      })
      .onConflictDoNothing({ target: outbox.eventId });
    metrics.analyticsEvents.inc({ event: name, outcome: status === 'QUEUED' ? 'queued' : 'held' });
    return status === 'QUEUED' ? 'queued' : 'held';
  }

  /** A refund event carries the payment's running total: what earlier ones gave back, and the new total kept. */
  private async refundedBefore(tx: Executor, event: EventEnvelope<AnalyticsEventName>): Promise<number> {
    if (event.name !== 'payment.refunded') return 0;
    const data = event.data as EventEnvelope<'payment.refunded'>['data'];
    if (!isUuid(data.paymentId)) return 0;
    // The row is locked before it is read: two refunds of one payment handled at once (two processes)
    // take turns, so each subtracts what the other gave back instead of both reading the same total.
    await tx.insert(refundTotals).values({ paymentId: data.paymentId, refunded: 0 }).onConflictDoNothing();
    const [before] = await tx
      .select()
      .from(refundTotals)
      .where(eq(refundTotals.paymentId, data.paymentId))
      .for('update');
    await tx
      .update(refundTotals)
      .set({ refunded: sql`greatest(${refundTotals.refunded}, ${data.amountRefunded})` })
      .where(eq(refundTotals.paymentId, data.paymentId));
    return before?.refunded ?? 0;
  }

  // ---------------------------------------------------------------- consent

  /** Consents by user id, in order (the default where a user never decided). */
  async consentsOf(userIds: readonly string[]): Promise<Consent[]> {
    const valid = userIds.filter(isUuid);
    const rows = valid.length ? await this.deps.db.select().from(consents).where(inArray(consents.userId, valid)) : [];
    const byId = new Map(rows.map((r) => [r.userId, r]));
    return userIds.map((userId) => this.consentFrom(userId, byId.get(userId)));
  }

  private consentFrom(userId: string, row: ConsentRow | undefined): Consent {
    return row
      ? { userId, granted: row.granted, decidedAt: row.updatedAt }
      : { userId, granted: this.deps.consentDefault === 'granted', decidedAt: null };
  }

  /**
   * Records a user's decision (the user themself or an admin). Granting releases the events that
   * waited for it; declining drops every event of theirs not yet sent (counted, never sent).
   */
  async setConsent(viewer: Viewer, userId: string, granted: boolean): Promise<Consent> {
    authorize(viewer, 'analytics.consent.update', userId);
    if (!isUuid(userId)) throw new BadUserInputError({ field: 'userId', message: 'userId must be a UUID' }, 'userId');
    const [person] = await this.deps.listings<{ id: string }>('User', [userId], 'id', SYSTEM_VIEWER);
    if (!person) throw new NotFoundError('User', userId);
    const now = new Date();
    const row = await this.deps.db.transaction(async (tx) => {
      const [saved] = await tx
        .insert(consents)
        .values({ userId, granted, decidedBy: viewer.userId, updatedAt: now })
        .onConflictDoUpdate({ target: consents.userId, set: { granted, decidedBy: viewer.userId, updatedAt: now } })
        .returning();
      if (granted) {
        await tx
          .update(outbox)
          .set({ status: 'QUEUED', nextAttemptAt: now })
          .where(and(eq(outbox.userId, userId), eq(outbox.status, 'HELD')));
      } else {
        // Claimed ones are in flight already: what a sender holds it finishes.
        const dropped = await tx
          .delete(outbox)
          .where(
            and(
              eq(outbox.userId, userId),
              or(
                eq(outbox.status, 'HELD'),
                and(eq(outbox.status, 'QUEUED'), or(isNull(outbox.claimedUntil), lt(outbox.claimedUntil, now))),
              ),
            ),
          )
          .returning({ event: outbox.event });
        for (const { event } of dropped) metrics.analyticsEvents.inc({ event: event.name, outcome: 'dropped' });
      }
      return saved!;
    });
    this.deps.logger.info({ userId, granted, byAdmin: viewer.userId !== userId }, 'analytics consent recorded');
    return this.consentFrom(userId, row);
  }

  // ---------------------------------------------------------------- sending

  /**
   * One round of the sender: drops events whose wait for consent ran out, claims up to 500 due
   * events (`FOR UPDATE SKIP LOCKED`, then held by `claimedUntil`, so several senders share the
   * work), and sends them per client id in requests of up to 25 events. Returns how many it claimed.
   */
  async flush(): Promise<number> {
    const now = new Date();
    if (this.deps.consentWaitMs > 0) await this.settleHeld(now);
    await this.dropDeclined(now);
    const due = this.deps.db
      .select({ eventId: outbox.eventId })
      .from(outbox)
      .where(
        and(
          eq(outbox.status, 'QUEUED'),
          lte(outbox.nextAttemptAt, now),
          or(isNull(outbox.claimedUntil), lt(outbox.claimedUntil, now)),
          // Never sent for a user who declined, whatever raced the decision (see dropDeclined).
          notInArray(outbox.userId, this.declinedUsers()),
        ),
      )
      .orderBy(asc(outbox.nextAttemptAt), asc(outbox.occurredAt))
      .limit(CLAIM_LIMIT)
      .for('update', { skipLocked: true });
    const claimed = await this.deps.db
      .update(outbox)
      .set({ claimedUntil: new Date(now.getTime() + this.claimMs) })
      .where(inArray(outbox.eventId, due))
      .returning();
    if (claimed.length === 0) return 0;
    const tooOld = claimed.filter((row) => now.getTime() - row.occurredAt.getTime() > GA4_LIMITS.maxAgeMs);
    if (tooOld.length) await this.fail(tooOld, 'older than the 72 hours GA4 accepts', true);
    const byClient = new Map<string, OutboxRow[]>();
    for (const row of claimed) {
      if (tooOld.includes(row)) continue;
      byClient.set(row.clientId, [...(byClient.get(row.clientId) ?? []), row]);
    }
    // A request is started only in the first half of the claim: the slowest one (every retry timing out)
    // still ends before the claim does, so no other sender can take and send the same events meanwhile.
    const startBy = now.getTime() + this.claimMs / 2;
    const unsent: OutboxRow[] = [];
    for (const [clientId, rows] of byClient) {
      rows.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
      for (const batch of requestsOf(clientId, rows)) {
        if (Date.now() > startBy) unsent.push(...batch);
        else await this.deliver(clientId, batch);
      }
    }
    if (unsent.length)
      await this.deps.db
        .update(outbox)
        .set({ claimedUntil: null })
        .where(
          inArray(
            outbox.eventId,
            unsent.map((r) => r.eventId),
          ),
        );
    return claimed.length;
  }

  /** Users who declined analytics (a subquery). */
  private declinedUsers() {
    return this.deps.db.select({ userId: consents.userId }).from(consents).where(eq(consents.granted, false));
  }

  /**
   * Queued events of users who declined: an event recorded under a `granted` default while the
   * user's decline was being committed saw no decision, and the decline's delete did not see it.
   * They are dropped unsent (those a sender holds already are its to finish).
   */
  private async dropDeclined(now: Date): Promise<void> {
    const dropped = await this.deps.db
      .delete(outbox)
      .where(
        and(
          eq(outbox.status, 'QUEUED'),
          inArray(outbox.userId, this.declinedUsers()),
          or(isNull(outbox.claimedUntil), lt(outbox.claimedUntil, now)),
        ),
      )
      .returning({ event: outbox.event });
    for (const { event } of dropped) metrics.analyticsEvents.inc({ event: event.name, outcome: 'dropped' });
  }

  /**
   * Held events whose user has decided since are released or dropped here too: a decision recorded
   * while the event's own transaction was still open did not see it (and it did not see the
   * decision). Then those that waited longer than the wait are dropped.
   */
  private async settleHeld(now: Date): Promise<void> {
    const decided = (granted: boolean) =>
      inArray(
        outbox.userId,
        this.deps.db.select({ userId: consents.userId }).from(consents).where(eq(consents.granted, granted)),
      );
    await this.deps.db
      .update(outbox)
      .set({ status: 'QUEUED', nextAttemptAt: now })
      .where(and(eq(outbox.status, 'HELD'), decided(true)));
    const dropped = await this.deps.db
      .delete(outbox)
      .where(
        and(
          eq(outbox.status, 'HELD'),
          or(decided(false), lt(outbox.createdAt, new Date(now.getTime() - this.deps.consentWaitMs))),
        ),
      )
      .returning({ event: outbox.event });
    for (const { event } of dropped) metrics.analyticsEvents.inc({ event: event.name, outcome: 'dropped' });
  }

  /** One Measurement Protocol request and its outcome, recorded on every event in it. */
  private async deliver(clientId: string, rows: OutboxRow[]): Promise<void> {
    const payload = payloadOf(clientId, rows);
    const started = Date.now();
    const ids = rows.map((r) => r.eventId);
    const names = rows.map((r) => r.event.name);
    const validate = this.deps.validate;
    try {
      const outcome = await this.deps.policy.execute(
        (attempt) => this.deps.gateway.collect(payload, { validate, attempt }),
        validate ? 'validate events' : 'collect events',
      );
      const now = new Date();
      await this.deps.db
        .update(outbox)
        .set({ status: validate ? 'VALIDATED' : 'SENT', sentAt: now, claimedUntil: null, lastError: null })
        .where(inArray(outbox.eventId, ids));
      await this.deps.db.insert(deliveries).values({
        id: randomUUID(),
        clientId,
        eventIds: ids,
        eventNames: names,
        status: outcome.status,
        validation: validate,
        validationMessages: outcome.validationMessages,
        durationMs: Date.now() - started,
        sentAt: now,
      });
      for (const name of names) metrics.analyticsEvents.inc({ event: name, outcome: validate ? 'validated' : 'sent' });
      if (outcome.validationMessages.length)
        this.deps.logger.warn(
          { events: names, validationMessages: outcome.validationMessages },
          'GA4 validation server found problems in our events',
        );
    } catch (err) {
      // The policy wraps what kept failing in ProviderUnavailableError: GA4's own answer is its cause.
      const answer = err instanceof Ga4Error ? err : (err as { causeError?: unknown })?.causeError;
      const ga4Error = answer instanceof Ga4Error ? answer : undefined;
      const rejected = ga4Error?.kind === 'rejected';
      const message = ga4Error ? ga4Error.message : `GA4 unavailable (${(err as Error)?.name ?? 'Error'})`;
      await this.deps.db.insert(deliveries).values({
        id: randomUUID(),
        clientId,
        eventIds: ids,
        eventNames: names,
        status: ga4Error?.status ?? null,
        validation: validate,
        validationMessages: [],
        error: message.slice(0, 500),
        durationMs: Date.now() - started,
        sentAt: new Date(),
      });
      this.deps.logger.warn({ events: names.length, error: message, rejected }, 'GA4 request failed');
      await this.fail(rows, message, rejected);
    }
  }

  /** Records a failed attempt: FAILED when it cannot succeed, else due again after the shared backoff. */
  private async fail(rows: OutboxRow[], message: string, permanent: boolean): Promise<void> {
    for (const row of rows) {
      const attempts = row.attempts + 1;
      await this.deps.db
        .update(outbox)
        .set({
          attempts,
          status: permanent ? 'FAILED' : 'QUEUED',
          nextAttemptAt: new Date(
            Date.now() + backoffDelayMs(attempts, this.deps.retryBaseDelayMs, this.deps.retryMaxDelayMs),
          ),
          lastError: message.slice(0, 500),
          claimedUntil: null,
        })
        .where(eq(outbox.eventId, row.eventId));
      metrics.analyticsEvents.inc({ event: row.event.name, outcome: permanent ? 'failed' : 'retried' });
    }
  }

  // ---------------------------------------------------------------- admin view

  /** The delivery backlog and the latest requests. Admins only. */
  async backlog(viewer: Viewer, recent: number): Promise<Backlog> {
    authorize(viewer, 'analytics.backlog.read');
    const counts = await this.backlogCounts();
    const recentDeliveries = await this.deps.db
      .select()
      .from(deliveries)
      .orderBy(desc(deliveries.sentAt))
      .limit(recent);
    const [lastValidated] = await this.deps.db
      .select()
      .from(deliveries)
      .where(and(eq(deliveries.validation, true), sql`jsonb_array_length(${deliveries.validationMessages}) > 0`))
      .orderBy(desc(deliveries.sentAt))
      .limit(1);
    return {
      ...counts,
      validation: this.deps.validate,
      lastValidationMessages: lastValidated?.validationMessages ?? [],
      recentDeliveries,
    };
  }

  /** Events not yet delivered by status, and the oldest queued one's age (also the metrics' source). */
  async backlogCounts(): Promise<{ queued: number; held: number; failed: number; oldestQueuedAgeSeconds: number }> {
    const result = (await this.deps.db.execute(sql`
      select ${outbox.status} as status, count(*)::int as n,
        coalesce(extract(epoch from (now() - min(${outbox.createdAt}))), 0)::float8 as age
      from ${outbox} where ${outbox.status} in ('QUEUED', 'HELD', 'FAILED') group by ${outbox.status}`)) as unknown as {
      rows: Array<{ status: string; n: number | string; age: number | string }>;
    };
    const of = (status: string) => result.rows.find((r) => r.status === status);
    return {
      queued: Number(of('QUEUED')?.n ?? 0),
      held: Number(of('HELD')?.n ?? 0),
      failed: Number(of('FAILED')?.n ?? 0),
      oldestQueuedAgeSeconds: Math.max(0, Number(of('QUEUED')?.age ?? 0)),
    };
  }
}

/** The request body for some events of one client id (ads may not use them: only analytics was consented to). */
export function payloadOf(clientId: string, rows: Pick<OutboxRow, 'event' | 'occurredAt'>[]): Ga4Payload {
  return {
    client_id: clientId,
    user_id: clientId,
    consent: NO_ADS,
    events: rows.map((row) => ({ ...row.event, timestamp_micros: row.occurredAt.getTime() * 1000 })),
  };
}

/** Splits one client id's events into requests within the protocol's limits: 25 events and 130 kB each. */
export function requestsOf<R extends Pick<OutboxRow, 'event' | 'occurredAt'>>(clientId: string, rows: R[]): R[][] {
  const out: R[][] = [];
  let current: R[] = [];
  for (const row of rows) {
    const next = [...current, row];
    const tooBig = Buffer.byteLength(JSON.stringify(payloadOf(clientId, next))) > GA4_LIMITS.requestBytes;
    if (current.length && (next.length > GA4_LIMITS.eventsPerRequest || tooBig)) {
      out.push(current);
      current = [row];
    } else current = next;
  }
  if (current.length) out.push(current);
  return out;
}
