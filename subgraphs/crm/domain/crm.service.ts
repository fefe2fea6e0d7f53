import { and, asc, desc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { authorize } from '../../../lib/permissions';
import type { Database, Executor } from '../../../lib/db';
import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import { BadUserInputError, NotFoundError, ProviderUnavailableError } from '../../../lib/errors';
import { isUuid } from '../../../lib/ids';
import type { Logger } from '../../../lib/logger';
import { backoffDelayMs, type BackgroundTask, type ProviderPolicy } from '../../../lib/resilience';
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
  /** How long a flusher holds the contacts it claimed before another may take them, ms. @default 120000 */
  claimMs?: number;
}

/** Contacts a sync holds: user id → the version it read (its outcome is recorded only against it) and failed attempts so far. */
type Claims = Map<string, { version: number; attempts: number }>;

const FIRST_RETRY_MS = 1000;
/** How long a sync waits for the start-up property check before it counts HubSpot as unavailable. */
const SETUP_WAIT_MS = 5000;
const LAST_RETRY_MS = 300_000;

/**
 * Keeps HubSpot contacts in step with our users. Events only mark a user PENDING (cheap, in the
 * event's transaction); `flush` syncs what is pending in batches of up to 100, so a burst of events
 * for one user is one upsert and a bulk change is a handful of calls.
 */
/** Attempts of syncNow when a change lands during each one (100 ms, 200 ms … 800 ms apart). */
const SYNC_NOW_ROUNDS = 5;

export class CrmService {
  private readonly maxAttempts: number;
  private readonly claimMs: number;
  /** What must be done in HubSpot before the first upsert (our custom properties), set by the composition root. */
  setup: BackgroundTask | undefined;

  constructor(private readonly deps: CrmDeps) {
    this.maxAttempts = deps.maxAttempts ?? 8;
    this.claimMs = deps.claimMs ?? 120_000;
  }

  /** Marks a user for syncing (idempotent; keeps the HubSpot id it already has). */
  async markPending(tx: Executor, userId: string): Promise<void> {
    await this.markManyPending(tx, [userId], new Date());
  }

  /**
   * Marks users for syncing, due at `dueAt`, with a new version each (a sync in flight for one of
   * them will not mark it SYNCED). A bulk job marks its page due later and claims it (`claim`), so
   * the flusher leaves it alone while the job syncs it, yet picks it up if the job dies.
   */
  async markManyPending(tx: Executor, userIds: readonly string[], dueAt: Date, claim = false): Promise<Claims> {
    const valid = [...new Set(userIds.filter(isUuid))];
    if (valid.length === 0) return new Map();
    const now = new Date();
    const pending = {
      syncStatus: 'PENDING' as const,
      attempts: 0,
      nextAttemptAt: dueAt,
      updatedAt: now,
      ...(claim ? { claimedUntil: dueAt } : {}),
    };
    const rows = await tx
      .insert(contacts)
      .values(valid.map((userId) => ({ userId, ...pending, version: 1 })))
      .onConflictDoUpdate({ target: contacts.userId, set: { ...pending, version: sql`${contacts.version} + 1` } })
      .returning({ userId: contacts.userId, version: contacts.version, attempts: contacts.attempts });
    return new Map(rows.map((r) => [r.userId, { version: r.version, attempts: r.attempts }]));
  }

  /**
   * Syncs one page of a bulk job. An outage is thrown, not recorded: the job waits and tries the
   * page again, and the users stay PENDING for the flusher should the job never come back.
   */
  async syncPage(userIds: string[], claimUntil: Date): Promise<BatchOutcome> {
    return this.syncBatch(await this.markManyPending(this.deps.db, userIds, claimUntil, true), 'throw');
  }

  /**
   * Claims up to `limit` due contacts and syncs them; returns how many were synced. Safe from many
   * processes: rows are taken `FOR UPDATE SKIP LOCKED` and held by `claimedUntil` while in flight.
   */
  async flush(limit = MAX_BATCH): Promise<number> {
    const now = new Date();
    const due = this.deps.db
      .select({ userId: contacts.userId })
      .from(contacts)
      .where(
        and(
          eq(contacts.syncStatus, 'PENDING'),
          lte(contacts.nextAttemptAt, now),
          or(isNull(contacts.claimedUntil), lt(contacts.claimedUntil, now)),
        ),
      )
      .orderBy(asc(contacts.nextAttemptAt))
      .limit(Math.min(limit, MAX_BATCH))
      .for('update', { skipLocked: true });
    const claimed = await this.deps.db
      .update(contacts)
      .set({ claimedUntil: new Date(now.getTime() + this.claimMs) })
      .where(inArray(contacts.userId, due))
      .returning({ userId: contacts.userId, version: contacts.version, attempts: contacts.attempts });
    if (claimed.length === 0) return 0;
    return (
      await this.syncBatch(
        new Map(claimed.map((c) => [c.userId, { version: c.version, attempts: c.attempts }])),
        'record',
      )
    ).synced;
  }

  /**
   * The stored contact of a user (null before the first sync), for the `crmContact` query: the user
   * themself or an admin, checked before `read` runs. A user listings does not know is NOT_FOUND
   * (only asked when nothing is stored).
   */
  async contactOf(viewer: Viewer, userId: string, read: () => Promise<ContactRow | null>): Promise<ContactRow | null> {
    authorize(viewer, 'crm.contact.read', userId);
    const stored = await read();
    if (stored) return stored;
    const [person] = isUuid(userId)
      ? await this.deps.listings<{ id: string }>('User', [userId], 'id', SYSTEM_VIEWER)
      : [null];
    if (!person) throw new NotFoundError('User', userId);
    return null;
  }

  /** The seed's POST /crm/add-user: sync one user now. The user themself or an admin. */
  async syncNow(viewer: Viewer, userId: string): Promise<ContactRow> {
    authorize(viewer, 'crm.sync', userId);
    // Bad input sends nothing and stores nothing: ask the owner of User first.
    const [person] = isUuid(userId)
      ? await this.deps.listings<{ id: string; email: string | null; emailVerified: boolean | null }>(
          'User',
          [userId],
          'id email emailVerified',
          SYSTEM_VIEWER,
        )
      : [null];
    if (!person) throw new NotFoundError('User', userId);
    if (!person.email)
      throw new BadUserInputError({ field: 'userId', message: 'the user has no email, which the CRM needs' }, 'userId');
    if (!person.emailVerified) throw new BadUserInputError({ field: 'userId', message: UNCONFIRMED }, 'userId');
    // A change may land while it is in flight (the events of the registration and the address
    // confirmation reach this service while the mutation runs): then it sends the newer facts too,
    // after a short pause that lets those events settle.
    for (let round = 0; round < SYNC_NOW_ROUNDS; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** round));
      const outcome = await this.syncBatch(
        await this.markManyPending(this.deps.db, [userId], new Date(Date.now() + this.claimMs), true),
        'record-and-throw',
      );
      if (outcome.synced + outcome.failed > 0) break;
    }
    const [row] = await this.deps.db.select().from(contacts).where(eq(contacts.userId, userId));
    if (row?.syncStatus !== 'SYNCED')
      throw new BadUserInputError(
        { field: 'userId', message: row?.lastError ?? 'the user could not be synced' },
        'userId',
      );
    return row;
  }

  /** Contacts that stopped retrying, most recent first. Admins only. */
  async failed(viewer: Viewer, limit: number): Promise<ContactRow[]> {
    authorize(viewer, 'crm.failed.read');
    return this.deps.db
      .select()
      .from(contacts)
      .where(eq(contacts.syncStatus, 'FAILED'))
      .orderBy(desc(contacts.updatedAt))
      .limit(limit);
  }

  /** Puts failed contacts (all of them, or the given users) back in the queue with fresh attempts. Admins only. */
  async retryFailed(viewer: Viewer, userIds?: readonly string[] | null): Promise<number> {
    authorize(viewer, 'crm.failed.retry');
    const now = new Date();
    const retried = await this.deps.db
      .update(contacts)
      .set({ syncStatus: 'PENDING', attempts: 0, nextAttemptAt: now, updatedAt: now })
      .where(
        and(eq(contacts.syncStatus, 'FAILED'), userIds ? inArray(contacts.userId, userIds.filter(isUuid)) : undefined),
      )
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
      const read = await this.deps.policy.execute(
        (attempt) => this.deps.gateway.readByIds(chunk, attempt),
        'read contacts',
      );
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
  private async syncBatch(claims: Claims, onOutage: 'record' | 'record-and-throw' | 'throw'): Promise<BatchOutcome> {
    const userIds = [...claims.keys()];
    await this.setupDone();
    type Person = {
      id: string;
      name: string;
      email: string | null;
      emailVerified: boolean | null;
      listingCount: number;
    };
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
      facts.set(userId, {
        userId,
        name: person.name,
        email: person.email,
        listingCount: person.listingCount,
        totalSpent: total,
        currency: this.deps.currency,
      });
    });
    let synced = 0;
    if (facts.size > 0) {
      try {
        const outcome = await this.deps.policy.execute(
          (attempt) => this.deps.gateway.upsertByUserId([...facts.values()].map(toContactProperties), attempt),
          'upsert contacts',
        );
        const now = new Date();
        for (const result of outcome.results) {
          const userId = result.userId;
          if (!facts.has(userId)) continue;
          const [done] = await this.deps.db
            .update(contacts)
            .set({
              syncStatus: 'SYNCED',
              hubspotId: result.id,
              attempts: 0,
              lastSyncedAt: now,
              lastError: null,
              updatedAt: now,
              claimedUntil: null,
            })
            .where(and(eq(contacts.userId, userId), eq(contacts.version, claims.get(userId)!.version)))
            .returning({ userId: contacts.userId });
          if (done) synced++;
          else await this.changedMeanwhile(userId, { hubspotId: result.id, lastSyncedAt: now });
        }
        for (const failure of outcome.failures) {
          // A conflict will not pass on a retry: it waits for the user's next change (user.updated marks them again).
          if (failure.userId && facts.has(failure.userId))
            problems.set(failure.userId, { message: failure.message, permanent: failure.conflict });
        }
      } catch (err) {
        // HubSpot's error messages embed response bodies (emails): log what kind of failure it was, not its text.
        this.deps.logger.warn(
          { users: facts.size, error: (err as Error).name, status: (err as { code?: unknown }).code ?? null },
          'crm sync failed; will retry',
        );
        if (onOutage === 'throw') throw err;
        for (const userId of facts.keys()) problems.set(userId, { message: 'HubSpot unavailable', permanent: false });
        await this.recordFailures(problems, claims);
        if (onOutage === 'record-and-throw') throw err;
        return { synced, failed: problems.size };
      }
    }
    await this.recordFailures(problems, claims);
    return { synced, failed: problems.size };
  }

  /** Waits a little for the HubSpot setup of a service that just started; an outage if it is not there. */
  private async setupDone(): Promise<void> {
    const setup = this.setup;
    if (!setup || setup.done()) return;
    await Promise.race([setup.settled, new Promise((r) => setTimeout(r, SETUP_WAIT_MS).unref())]);
    if (!setup.done()) throw new ProviderUnavailableError('hubspot', Math.ceil(SETUP_WAIT_MS / 1000));
  }

  /**
   * A change marked the contact PENDING again while its upsert was in flight: keep what HubSpot
   * told us, leave it PENDING with its new version, and let it go (the flusher sends the new facts).
   */
  private async changedMeanwhile(userId: string, known: { hubspotId?: string; lastSyncedAt?: Date }): Promise<void> {
    this.deps.logger.debug({ userId }, 'contact changed while it was synced; syncing it again');
    await this.deps.db
      .update(contacts)
      .set({ ...known, claimedUntil: null })
      .where(eq(contacts.userId, userId));
  }

  /**
   * The shared backoff grows with the attempts (1 s, 2 s, 4 s … up to 5 min); after `maxAttempts`
   * the contact is FAILED. Only against the claimed version: a newer change starts afresh.
   */
  private async recordFailures(
    problems: Map<string, { message: string; permanent: boolean }>,
    claims: Claims,
  ): Promise<void> {
    for (const [userId, { message, permanent }] of problems) {
      const claim = claims.get(userId)!;
      const attempts = claim.attempts + 1;
      const [recorded] = await this.deps.db
        .update(contacts)
        .set({
          attempts,
          syncStatus: permanent || attempts >= this.maxAttempts ? 'FAILED' : 'PENDING',
          nextAttemptAt: new Date(Date.now() + backoffDelayMs(attempts, FIRST_RETRY_MS, LAST_RETRY_MS)),
          lastError: message.slice(0, 500),
          updatedAt: new Date(),
          claimedUntil: null,
        })
        .where(and(eq(contacts.userId, userId), eq(contacts.version, claim.version)))
        .returning({ userId: contacts.userId });
      if (!recorded) await this.changedMeanwhile(userId, {});
    }
  }
}
