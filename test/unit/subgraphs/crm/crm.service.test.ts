import { randomUUID } from 'node:crypto';
import { eq, inArray, sql } from 'drizzle-orm';
import type { Viewer } from '../../../../lib/auth';
import type { DatabaseHandle } from '../../../../lib/db';
import type { EntityClient } from '../../../../lib/entity-client';
import type { UserDirectory } from '../../../../lib/user-directory';
import { contacts, syncJobs } from '../../../../subgraphs/crm/db/schema';
import { CrmBulkSync } from '../../../../subgraphs/crm/domain/bulk-sync.service';
import { CrmService } from '../../../../subgraphs/crm/domain/crm.service';
import type {
  CrmContact,
  CrmGateway,
  UpsertFailure,
  UpsertResult,
} from '../../../../subgraphs/crm/provider/crm-gateway.port';
import { FakeOutage, fastPolicy, silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

/** HubSpot in memory: contacts by email (upserted by saypro_user_id), every upsert call recorded, outages on demand. */
class FakeCrm implements CrmGateway {
  calls: Array<Array<Record<string, string>>> = [];
  byEmail = new Map<string, { id: string; properties: Record<string, string> }>();
  /** Upsert calls that fail before this one succeeds (counted per call, retries included). */
  failNext = 0;
  /** Emails HubSpot refuses item by item. */
  refuse = new Set<string>();
  /** Runs inside an upsert, before it answers: a change can land while it is in flight. */
  during: () => Promise<void> = async () => undefined;
  async ensureProperties() {}
  async upsertByUserId(
    batch: Array<Record<string, string>>,
  ): Promise<{ results: UpsertResult[]; failures: UpsertFailure[] }> {
    if (this.failNext > 0) {
      this.failNext--;
      throw new FakeOutage('HubSpot 503');
    }
    this.calls.push(batch);
    await this.during();
    const results: UpsertResult[] = [];
    const failures: UpsertFailure[] = [];
    for (const properties of batch) {
      const email = properties.email!;
      const userId = properties.saypro_user_id!;
      if (this.refuse.has(email)) {
        failures.push({ userId, message: 'Property values were not valid', conflict: false });
        continue;
      }
      const existing = this.byEmail.get(email);
      const id = existing?.id ?? String(this.byEmail.size + 1);
      this.byEmail.set(email, { id, properties });
      results.push({ userId, id, created: !existing });
    }
    return { results, failures };
  }
  async readByIds(): Promise<Map<string, CrmContact>> {
    return new Map();
  }
  isTransient = (err: unknown) => err instanceof FakeOutage;
  isOutage = (err: unknown) => err instanceof FakeOutage;
  /** How many times each email was sent, over every successful call. */
  sends = () =>
    this.calls.flat().reduce((m, p) => m.set(p.email!, (m.get(p.email!) ?? 0) + 1), new Map<string, number>());
}

type Person = { id: string; name: string; email: string | null; emailVerified: boolean; listingCount: number };
const people = new Map<string, Person>();
const listings = (async (_t: string, ids: readonly string[]) =>
  ids.map((id) => people.get(id) ?? null)) as unknown as EntityClient;
const payments = (async (_t: string, ids: readonly string[]) =>
  ids.map((id) => ({ id, totalSpent: [{ amount: 500, currency: 'USD' }] }))) as unknown as EntityClient;
const person = (overrides: Partial<Person> = {}): Person => {
  const id = randomUUID();
  const p = {
    id,
    name: 'Ada Lovelace',
    email: `ada.${id.slice(0, 8)}@example.com`,
    emailVerified: true,
    listingCount: 1,
    ...overrides,
  };
  people.set(id, p);
  return p;
};

let handle: DatabaseHandle;
let hubspot: FakeCrm;
let crm: CrmService;
const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };
const contactOf = async (userId: string) =>
  (await handle.db.select().from(contacts).where(eq(contacts.userId, userId)))[0]!;
/** Makes every pending contact due now (their backoff run out), so `flush` takes them. */
const due = (userIds: string[]) =>
  handle.db
    .update(contacts)
    .set({ nextAttemptAt: new Date(Date.now() - 1000) })
    .where(inArray(contacts.userId, userIds));

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(async () => {
  await handle.db.delete(contacts);
  hubspot = new FakeCrm();
  crm = new CrmService({
    db: handle.db,
    gateway: hubspot,
    policy: fastPolicy('hubspot', { retries: 0 }),
    listings,
    payments,
    logger: silentLogger,
    maxAttempts: 3,
    currency: 'USD',
  });
});

describe('CrmService: coalescing and retries', () => {
  it('turns a burst of changes for a few users into one upsert per user in one HubSpot call', async () => {
    const users = [person(), person(), person({ name: 'Plato' })];
    for (let i = 0; i < 5; i++) for (const u of users) await crm.markPending(handle.db, u.id);
    await crm.flush();
    expect(hubspot.calls).toHaveLength(1);
    expect(hubspot.calls[0]!.map((p) => p.email).sort()).toEqual(users.map((u) => u.email).sort());
    expect(hubspot.calls[0]!.find((p) => p.email === users[2]!.email)).toMatchObject({
      firstname: 'Plato',
      saypro_listing_count: '1',
      saypro_total_spent: '500',
    });
    for (const u of users)
      expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'SYNCED', attempts: 0, lastError: null });
    expect(await crm.flush()).toBe(0);
  });

  it('keeps a contact PENDING with a growing backoff through outages, then FAILED after maxAttempts', async () => {
    const u = person();
    await crm.markPending(handle.db, u.id);
    hubspot.failNext = 100;
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      await due([u.id]);
      await crm.flush();
      const c = await contactOf(u.id);
      expect(c).toMatchObject({
        attempts: attempt,
        syncStatus: attempt < 3 ? 'PENDING' : 'FAILED',
        lastError: 'HubSpot unavailable',
      });
      waits.push(c.nextAttemptAt.getTime() - c.updatedAt.getTime());
    }
    expect(waits[1]!).toBeGreaterThan(waits[0]!);
    expect(await crm.flush()).toBe(0); // FAILED waits for an admin
    expect(await crm.retryFailed(admin, [u.id])).toBe(1);
    hubspot.failNext = 0;
    await crm.flush();
    expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'SYNCED', attempts: 0 });
  });

  it('fails a user without an email at once, and retries an item HubSpot refused', async () => {
    const noEmail = person({ email: null });
    const refused = person();
    hubspot.refuse.add(refused.email!);
    await crm.markPending(handle.db, noEmail.id);
    await crm.markPending(handle.db, refused.id);
    await crm.flush();
    expect(await contactOf(noEmail.id)).toMatchObject({ syncStatus: 'FAILED', lastError: 'the user has no email' });
    expect(await contactOf(refused.id)).toMatchObject({
      syncStatus: 'PENDING',
      attempts: 1,
      lastError: 'Property values were not valid',
    });
  });

  // The lost update of issue 12: the flusher used to mark the contact SYNCED by user id alone.
  it('does not lose a change that arrives while its upsert is in flight', async () => {
    const u = person({ listingCount: 1 });
    await crm.markPending(handle.db, u.id);
    hubspot.during = async () => {
      hubspot.during = async () => undefined;
      people.set(u.id, { ...u, listingCount: 2 });
      await crm.markPending(handle.db, u.id); // listing.created while HubSpot holds the first upsert
    };
    expect(await crm.flush()).toBe(0); // its outcome is not recorded against the newer version…
    expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'PENDING', claimedUntil: null });
    expect(await crm.flush()).toBe(1); // …which the next tick sends
    expect(hubspot.calls.map((batch) => batch.map((p) => p.saypro_listing_count))).toEqual([['1'], ['2']]);
    expect(hubspot.byEmail.get(u.email!)!.properties.saypro_listing_count).toBe('2');
    expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'SYNCED', version: 2, claimedUntil: null });
  });

  it('lets a second flusher skip the contacts the first has in flight, so each is sent once', async () => {
    const users = [person(), person()];
    for (const u of users) await crm.markPending(handle.db, u.id);
    const other = new CrmService({
      db: handle.db,
      gateway: hubspot,
      policy: fastPolicy('hubspot', { retries: 0 }),
      listings,
      payments,
      logger: silentLogger,
      currency: 'USD',
    });
    let inFlight: number | undefined;
    hubspot.during = async () => {
      hubspot.during = async () => undefined;
      inFlight = await other.flush(); // another process's tick while HubSpot holds the first upsert
    };
    expect(await crm.flush()).toBe(2);
    expect(inFlight).toBe(0);
    expect(hubspot.calls).toHaveLength(1);
    for (const u of users) expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'SYNCED', claimedUntil: null });
  });

  it("takes over a crashed flusher's contacts once its claim runs out", async () => {
    const u = person();
    await crm.markPending(handle.db, u.id);
    await handle.db
      .update(contacts)
      .set({ claimedUntil: new Date(Date.now() + 60_000) })
      .where(eq(contacts.userId, u.id)); // a claim whose holder died
    expect(await crm.flush()).toBe(0);
    await handle.db
      .update(contacts)
      .set({ claimedUntil: new Date(Date.now() - 1) })
      .where(eq(contacts.userId, u.id));
    expect(await crm.flush()).toBe(1);
    expect(await contactOf(u.id)).toMatchObject({ syncStatus: 'SYNCED' });
  });
});

describe('CrmBulkSync: resumes where it stopped', () => {
  const everyone: string[] = [];
  /** listings' admin `users` pages over `everyone`, the cursor being the index reached. */
  const directory: UserDirectory = async (after, first) => {
    const from = after ? Number(after) : 0;
    const ids = everyone.slice(from, from + first);
    return {
      ids,
      endCursor: ids.length ? String(from + ids.length) : after,
      hasNextPage: from + ids.length < everyone.length,
      totalCount: everyone.length,
    };
  };

  beforeAll(() => {
    for (let i = 0; i < 250; i++) everyone.push(person().id);
  });

  it('waits on an outage with its cursor kept, then syncs every user exactly once from the page it stopped at', async () => {
    await handle.db.delete(syncJobs);
    const bulk = new CrmBulkSync({ db: handle.db, crm, users: directory, logger: silentLogger, retryDelayMs: 1000 });
    const job = await bulk.start(admin);
    expect(await bulk.start(admin)).toMatchObject({ id: job.id }); // one at a time
    hubspot.failNext = 0;
    // The first page syncs, the second meets an outage.
    let pages = 0;
    hubspot.during = async () => {
      if (++pages === 1) hubspot.failNext = 1;
    };
    expect(await bulk.runOnce()).toBe(1);
    const waiting = await bulk.get(admin, job.id);
    expect(waiting).toMatchObject({
      state: 'RUNNING',
      done: 100,
      cursor: '100',
      lastError: expect.stringMatching(/hubspot/i),
    });
    expect(waiting.retryAt!.getTime()).toBeGreaterThan(Date.now());
    expect(await bulk.runOnce()).toBe(0); // not due yet

    await handle.db
      .update(syncJobs)
      .set({ retryAt: new Date(Date.now() - 1) })
      .where(eq(syncJobs.id, job.id));
    expect(await bulk.runOnce()).toBe(2);
    expect(await bulk.get(admin, job.id)).toMatchObject({ state: 'COMPLETED', done: 250, failed: 0, total: 250 });
    const sends = hubspot.sends();
    expect(everyone.every((id) => sends.get(people.get(id)!.email!) === 1)).toBe(true);
    expect(sends.size).toBe(250);
  });

  it('counts as failed only who did not reach HubSpot: a contact that changed while its page was in flight is sent again, not failed', async () => {
    await handle.db.delete(syncJobs);
    const bulk = new CrmBulkSync({ db: handle.db, crm, users: directory, logger: silentLogger });
    const job = await bulk.start(admin);
    hubspot.failNext = 0;
    let pages = 0;
    hubspot.during = async () => {
      // A change lands while the first page is in HubSpot's hands: its compare-and-set loses.
      if (++pages === 1)
        await handle.db
          .update(contacts)
          .set({ version: sql`${contacts.version} + 1` })
          .where(eq(contacts.userId, everyone[0]!));
    };
    try {
      while ((await bulk.get(admin, job.id)).state === 'RUNNING') await bulk.runOnce();
    } finally {
      hubspot.during = async () => undefined;
    }
    expect(await bulk.get(admin, job.id)).toMatchObject({ state: 'COMPLETED', done: 250, failed: 0 });
    const [changed] = await handle.db.select().from(contacts).where(eq(contacts.userId, everyone[0]!));
    expect(changed!.syncStatus).toBe('PENDING'); // queued again with the newer facts
  });

  it('lets another process take over a job whose runner died (its lease ran out) and go on from its cursor', async () => {
    await handle.db.delete(syncJobs);
    const bulk = new CrmBulkSync({ db: handle.db, crm, users: directory, logger: silentLogger, leaseMs: 60_000 });
    const job = await bulk.start(admin);
    // A runner that stored page one and died: its lease is still held.
    await handle.db
      .update(syncJobs)
      .set({ cursor: '100', done: 100, leaseUntil: new Date(Date.now() + 60_000) })
      .where(eq(syncJobs.id, job.id));
    expect(await bulk.runOnce()).toBe(0);
    await handle.db
      .update(syncJobs)
      .set({ leaseUntil: new Date(Date.now() - 1) })
      .where(eq(syncJobs.id, job.id));
    expect(await bulk.runOnce()).toBe(2);
    expect(await bulk.get(admin, job.id)).toMatchObject({ state: 'COMPLETED', done: 250 });
    expect(hubspot.calls.map((c) => c.length)).toEqual([100, 50]);
    expect(hubspot.calls.flat().map((p) => p.email)).toEqual(everyone.slice(100).map((id) => people.get(id)!.email));
  });
});
