import { and, asc, desc, eq, inArray, lte, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { authorize } from '../../../lib/permissions';
import type { Database, Executor } from '../../../lib/db';
import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import { BadUserInputError, NotFoundError } from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import type { ProviderPolicy } from '../../../lib/resilience';
import { contacts, type ContactRow } from '../db/schema';
import { MAX_BATCH, type CrmContact, type CrmGateway } from '../provider/crm-gateway.port';
import { toContactProperties, type ContactFacts } from './contact-mapping';

/** An address nobody confirmed is not sent to the CRM: it could be anyone's. */
const UNCONFIRMED = 'the user has not confirmed their email address yet';

/** What one batch did: users synced, and users that did not sync (recorded for a retry or FAILED). */
export interface BatchOutcome {
  synced: number;
  failed: number;
}

export interface CrmDeps {
  db: Database;
  gateway: CrmGateway;
  policy: ProviderPolicy;
  /** listings owns User (name, email, listing count). */
  listings: EntityClient;
  /** payments adds User.totalSpent. */
  payments: EntityClient;
  logger: Logger;
  /** Failed attempts before a contact is FAILED (an admin replays it). @default 8 */
  maxAttempts?: number;
  /** Currency reported as the spend currency. */
  currency: string;
}

/**
 * Keeps HubSpot contacts in step with our users. Events only mark a user PENDING (cheap, in the
 * event's transaction); `flush` syncs what is pending in batches of up to 100, so a burst of events
 * for one user is one upsert and a bulk change is a handful of calls.
 */
export class CrmService {
  private readonly maxAttempts: number;

  constructor(private readonly deps: CrmDeps) {
    this.maxAttempts = deps.maxAttempts ?? 8;
  }

  /** Marks a user for syncing (idempotent; keeps the HubSpot id it already has). */
  async markPending(tx: Executor, userId: string): Promise<void> {
    await this.markManyPending(tx, [userId], new Date());
  }

  /**
   * Marks users for syncing, due at `dueAt`. A bulk job marks its page due later than now, so the
   * flusher leaves it alone while the job syncs it, yet picks it up if the job dies.
   */
  async markManyPending(tx: Executor, userIds: readonly string[], dueAt: Date): Promise<void> {
    const valid = [...new Set(userIds.filter(isUuid))];
    if (valid.length === 0) return;
    const now = new Date();
    const pending = { syncStatus: 'PENDING' as const, attempts: 0, nextAttemptAt: dueAt, updatedAt: now };
    await tx
      .insert(contacts)
      .values(valid.map((userId) => ({ userId, ...pending })))
      .onConflictDoUpdate({ target: contacts.userId, set: pending });
  }

  /**
   * Syncs one page of a bulk job. An outage is thrown, not recorded: the job waits and tries the
   * page again, and the users stay PENDING for the flusher should the job never come back.
   */
  syncPage(userIds: string[]): Promise<BatchOutcome> {
    return this.syncBatch(userIds, 'throw');
  }

  /** Syncs up to `limit` due contacts; returns how many were synced. Safe to run from many processes (rows are claimed). */
  async flush(limit = MAX_BATCH): Promise<number> {
    const due = await this.deps.db
      .select()
      .from(contacts)
      .where(and(eq(contacts.syncStatus, 'PENDING'), lte(contacts.nextAttemptAt, new Date())))
      .orderBy(asc(contacts.nextAttemptAt))
      .limit(Math.min(limit, MAX_BATCH));
    if (due.length === 0) return 0;
    return (await this.syncBatch(due.map((c) => c.userId), 'record')).synced;
  }

  /** The seed's POST /crm/add-user: sync one user now. The user themself or an admin. */
  async syncNow(viewer: Viewer, userId: string): Promise<ContactRow> {
    authorize(viewer, 'crm.sync', userId);
    // Bad input sends nothing and stores nothing: ask the owner of User first.
    const [person] = isUuid(userId) ? await this.deps.listings<{ id: string; email: string | null; emailVerified: boolean | null }>('User', [userId], 'id email emailVerified', SYSTEM_VIEWER) : [null];
    if (!person) throw new NotFoundError('User', userId);
    if (!person.email) throw new BadUserInputError({ field: 'userId', message: 'the user has no email, which the CRM needs' }, 'userId');
    if (!person.emailVerified) throw new BadUserInputError({ field: 'userId', message: UNCONFIRMED }, 'userId');
    await this.markPending(this.deps.db, userId);
    await this.syncBatch([userId], 'record-and-throw');
    const [row] = await this.deps.db.select().from(contacts).where(eq(contacts.userId, userId));
    if (row?.syncStatus !== 'SYNCED') throw new BadUserInputError({ field: 'userId', message: row?.lastError ?? 'the user could not be synced' }, 'userId');
    return row;
  }

  /** Contacts that stopped retrying, most recent first. Admins only. */
  async failed(viewer: Viewer, limit: number): Promise<ContactRow[]> {
    authorize(viewer, 'crm.failed.read');
    return this.deps.db.select().from(contacts).where(eq(contacts.syncStatus, 'FAILED')).orderBy(desc(contacts.updatedAt)).limit(limit);
  }

  /** Puts failed contacts (all of them, or the given users) back in the queue with fresh attempts. Admins only. */
  async retryFailed(viewer: Viewer, userIds?: readonly string[] | null): Promise<number> {
    authorize(viewer, 'crm.failed.retry');
    const now = new Date();
    const retried = await this.deps.db
      .update(contacts)
      .set({ syncStatus: 'PENDING', attempts: 0, nextAttemptAt: now, updatedAt: now })
      .where(and(eq(contacts.syncStatus, 'FAILED'), userIds ? inArray(contacts.userId, userIds.filter(isUuid)) : undefined))
      .returning({ userId: contacts.userId });
    this.deps.logger.info({ retried: retried.length }, 'failed crm syncs queued again');
    return retried.length;
  }

  async byUserIds(userIds: readonly string[]): Promise<ContactRow[]> {
    const valid = userIds.filter(isUuid);
    return valid.length ? this.deps.db.select().from(contacts).where(inArray(contacts.userId, valid)) : [];
  }

  /** HubSpot's view of many contacts in one batch read per 100. */
  async readFromCrm(hubspotIds: readonly string[]): Promise<Map<string, CrmContact>> {
    const out = new Map<string, CrmContact>();
    const ids = [...new Set(hubspotIds)];
    for (let i = 0; i < ids.length; i += MAX_BATCH) {
      const chunk = ids.slice(i, i + MAX_BATCH);
      const read = await this.deps.policy.execute((attempt) => this.deps.gateway.readByIds(chunk, attempt));
      for (const [id, contact] of read) out.set(id, contact);
    }
    return out;
  }

  /**
   * Gathers the users' current facts from their owners (one call to listings, one to payments),
   * upserts them in one HubSpot call, and records each outcome. A provider outage is recorded for
   * a later attempt (`record`), also thrown to the caller, a mutation (`record-and-throw`), or only
   * thrown, for a bulk job that retries the page itself (`throw`).
   */
  private async syncBatch(userIds: string[], onOutage: 'record' | 'record-and-throw' | 'throw'): Promise<BatchOutcome> {
    type Person = { id: string; name: string; email: string | null; emailVerified: boolean | null; listingCount: number };
    type Spend = { id: string; totalSpent: Array<{ amount: number; currency: string }> | null };
    const [people, spend] = await Promise.all([
      this.deps.listings<Person>('User', userIds, 'id name email emailVerified listingCount', SYSTEM_VIEWER),
      this.deps.payments<Spend>('User', userIds, 'id totalSpent { amount currency }', SYSTEM_VIEWER),
    ]);
    const facts = new Map<string, ContactFacts>();
    /** userId → why it did not sync; `permanent` problems (no such user, no email) are not retried. */
    const problems = new Map<string, { message: string; permanent: boolean }>();
    userIds.forEach((userId, i) => {
      const person = people[i];
      if (!person) return void problems.set(userId, { message: 'unknown user', permanent: true });
      if (!person.email) return void problems.set(userId, { message: 'the user has no email', permanent: true });
      // Confirming it is a user.updated: the consumer marks the user pending again then.
      if (!person.emailVerified) return void problems.set(userId, { message: UNCONFIRMED, permanent: true });
      const total = spend[i]?.totalSpent?.find((t) => t.currency === this.deps.currency)?.amount ?? 0;
      facts.set(userId, { userId, name: person.name, email: person.email, listingCount: person.listingCount, totalSpent: total, currency: this.deps.currency });
    });
    let synced = 0;
    if (facts.size > 0) {
      try {
        const outcome = await this.deps.policy.execute((attempt) => this.deps.gateway.upsertByUserId([...facts.values()].map(toContactProperties), attempt));
        const now = new Date();
        for (const result of outcome.results) {
          const userId = result.userId;
          if (!facts.has(userId)) continue;
          await this.deps.db
            .update(contacts)
            .set({ syncStatus: 'SYNCED', hubspotId: result.id, attempts: 0, lastSyncedAt: now, lastError: null, updatedAt: now })
            .where(eq(contacts.userId, userId));
          synced++;
        }
        for (const failure of outcome.failures) {
          // A conflict will not pass on a retry: it waits for the user's next change (user.updated marks them again).
          if (failure.userId && facts.has(failure.userId)) problems.set(failure.userId, { message: failure.message, permanent: failure.conflict });
        }
      } catch (err) {
        // HubSpot's error messages embed response bodies (emails): log what kind of failure it was, not its text.
        this.deps.logger.warn({ users: facts.size, error: (err as Error).name, status: (err as { code?: unknown }).code ?? null }, 'crm sync failed; will retry');
        if (onOutage === 'throw') throw err;
        for (const userId of facts.keys()) problems.set(userId, { message: 'HubSpot unavailable', permanent: false });
        await this.recordFailures(problems);
        if (onOutage === 'record-and-throw') throw err;
        return { synced, failed: problems.size };
      }
    }
    await this.recordFailures(problems);
    return { synced, failed: problems.size };
  }

  /** Backoff grows with the attempts (1 s, 2 s, 4 s … up to 5 min); after `maxAttempts` the contact is FAILED. */
  private async recordFailures(problems: Map<string, { message: string; permanent: boolean }>): Promise<void> {
    for (const [userId, { message, permanent }] of problems) {
      await this.deps.db
        .update(contacts)
        .set({
          attempts: sql`${contacts.attempts} + 1`,
          syncStatus: permanent ? 'FAILED' : sql`case when ${contacts.attempts} + 1 >= ${this.maxAttempts} then 'FAILED' else 'PENDING' end`,
          nextAttemptAt: sql`now() + least(300, power(2, ${contacts.attempts})) * interval '1 second'`,
          lastError: message.slice(0, 500),
          updatedAt: new Date(),
        })
        .where(eq(contacts.userId, userId));
    }
  }
}
