import { randomUUID } from 'node:crypto';
import { and, eq, gte, inArray } from 'drizzle-orm';
import { contacts } from '../../subgraphs/crm/db/schema';
import { users } from '../../subgraphs/listings/db/schema';
import { CrmSyncJobDocument, SyncAllUsersToCrmDocument, UsersDocument } from '../generated/graphql';
import { dataOf, errorOf } from '../helpers/graph-client';
import { registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { settled } from '../helpers/settled';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * The bulk sync at scale: 1,000 users who exist before the CRM knew them (inserted directly, so no
 * events announce them), synced by `syncAllUsersToCrm` against an emulator that enforces the same
 * rolling limit we pace ourselves to, scaled down to 2 calls per second so pacing matters.
 */
const USERS = 1000;
const UPSERT = '/crm/v3/objects/contacts/batch/upsert';
const RATE = { HUBSPOT_RATE_LIMIT: '2', HUBSPOT_RATE_WINDOW_MS: '1000' };
/** The admin polls its job for over a minute at 10 requests a second: past the gateway's per-viewer limit, which is not under test here. */
const POLLING = { RATE_LIMIT_PER_VIEWER: '0' };

async function seedUsers(stack: TestStack): Promise<string[]> {
  const base = Date.now() - 86_400_000;
  const rows = Array.from({ length: USERS }, (_, i) => ({
    id: randomUUID(),
    name: `Bulk User ${i}`,
    email: `bulk-${i}-${randomUUID().slice(0, 8)}@example.com`,
    emailVerifiedAt: new Date(base + i * 1000), // users from before confirmation (migration 0003)
    createdAt: new Date(base + i * 1000),
    updatedAt: new Date(base + i * 1000),
  }));
  for (let i = 0; i < rows.length; i += 250) await stack.handle.db.insert(users).values(rows.slice(i, i + 250));
  return rows.map((r) => r.id);
}

/** How many of the users were synced since `since` (our record of HubSpot's answers). */
async function syncedSince(stack: TestStack, userIds: string[], since: Date): Promise<number> {
  const rows = await stack.handle.db
    .select({ userId: contacts.userId })
    .from(contacts)
    .where(
      and(inArray(contacts.userId, userIds), eq(contacts.syncStatus, 'SYNCED'), gte(contacts.lastSyncedAt, since)),
    );
  return rows.length;
}

const upsertsSince = (stack: TestStack, since: Date) =>
  stack.hubspot!.requests().filter((r) => r.path === UPSERT && new Date(r.at) >= since);

async function runJob(
  stack: TestStack,
  admin: TestUser,
  timeoutMs: number,
  onProgress?: (job: { state: string }) => void,
) {
  const started = dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: admin.token })).syncAllUsersToCrm;
  return eventually(
    async () => {
      const job = dataOf(await stack.graph(CrmSyncJobDocument, { id: started.id }, { token: admin.token })).crmSyncJob;
      onProgress?.(job);
      return job;
    },
    (job) => job.state === 'COMPLETED',
    timeoutMs,
  );
}

describe('bulk CRM sync of 1,000 users', () => {
  let stack: TestStack;
  let admin: TestUser;
  let ids: string[];

  beforeAll(async () => {
    stack = await startTestStack({
      ...RATE,
      ...POLLING,
      CRM_FLUSH_INTERVAL_MS: '200',
      PROVIDER_RETRY_DELAY_MS: '20',
      PROVIDER_BREAKER_COOLDOWN_MS: '1000',
    });
    admin = await registerUser(stack, 'Admin', ['user', 'admin']);
    // The admin's own automatic sync (user.created) goes first, so every upsert after this is the job's.
    await eventually(
      async () => (await stack.handle.db.select().from(contacts).where(eq(contacts.userId, admin.id)))[0]?.syncStatus,
      (s) => s === 'SYNCED',
    );
    ids = await seedUsers(stack);
    // Its confirmation (user.updated) comes after: no CRM change may still be on its way when the job starts.
    await settled(stack);
    const pending = await eventually(
      async () => (await stack.handle.db.select().from(contacts).where(eq(contacts.syncStatus, 'PENDING'))).length,
      (n) => n === 0,
    );
    expect(pending).toBe(0);
  });
  afterAll(() => stack?.stop());
  afterEach(() => stack.hubspot!.clearFaults());

  it('finishes without a single 429, in pages of 100 paced to the rate limit', async () => {
    const since = new Date();
    const rateLimitedBefore = stack.hubspot!.rateLimited();
    const job = await runJob(stack, admin, 60_000);
    expect(job).toMatchObject({
      state: 'COMPLETED',
      total: USERS + 1,
      done: USERS + 1,
      failed: 0,
      retryAt: null,
      lastError: null,
    });
    expect(stack.hubspot!.rateLimited() - rateLimitedBefore).toBe(0);
    const upserts = upsertsSince(stack, since);
    expect(upserts).toHaveLength(11); // 1,001 users (the admin too) in pages of 100
    expect(upserts.every((r) => r.status === 200 && (r.batchSize ?? 0) <= 100)).toBe(true);
    // Paced: no rolling second holds more than 2 calls to HubSpot.
    const times = stack
      .hubspot!.requests()
      .filter((r) => new Date(r.at) >= since)
      .map((r) => new Date(r.at).getTime());
    for (const t of times) expect(times.filter((x) => x > t - 1000 && x <= t).length).toBeLessThanOrEqual(2);
    expect(await syncedSince(stack, ids, since)).toBe(USERS);
    const bulkEmails = new Set(
      stack
        .hubspot!.contacts()
        .filter((c) => ids.includes(c.properties.saypro_user_id ?? ''))
        .map((c) => c.properties.email),
    );
    expect(bulkEmails.size).toBe(USERS);
  });

  it('returns the running job instead of starting a second one, and is for admins only', async () => {
    const first = dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: admin.token })).syncAllUsersToCrm;
    const second = dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: admin.token })).syncAllUsersToCrm;
    expect(second.id).toBe(first.id);
    const someone = await registerUser(stack, 'Not An Admin');
    expect(errorOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: someone.token })).extensions.code).toBe(
      'FORBIDDEN',
    );
    expect(
      errorOf(await stack.graph(CrmSyncJobDocument, { id: first.id }, { token: someone.token })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(
      errorOf(await stack.graph(CrmSyncJobDocument, { id: randomUUID() }, { token: admin.token })).extensions.code,
    ).toBe('NOT_FOUND');
    expect(errorOf(await stack.graph(UsersDocument, { first: 5 }, { token: someone.token })).extensions.code).toBe(
      'FORBIDDEN',
    );
    await eventually(
      async () => dataOf(await stack.graph(CrmSyncJobDocument, { id: first.id }, { token: admin.token })).crmSyncJob,
      (job) => job.state === 'COMPLETED',
      60_000,
    );
  });

  it('slows down and still completes through a storm of 429s, losing nobody', async () => {
    const since = new Date();
    stack.hubspot!.setFaults([{ kind: 'rate_limit', times: 8, path: UPSERT }]);
    const rateLimitedBefore = stack.hubspot!.rateLimited();
    const job = await runJob(stack, admin, 90_000);
    expect(job).toMatchObject({ state: 'COMPLETED', failed: 0 });
    expect(stack.hubspot!.rateLimited() - rateLimitedBefore).toBe(8); // the forced ones, none earned
    expect(await syncedSince(stack, ids, since)).toBe(USERS);
  });

  it('waits out a minute-long HubSpot outage and completes with nothing lost', async () => {
    const since = new Date();
    stack.hubspot!.setFaults([{ kind: 'outage', ms: 60_000 }]);
    const states = new Set<string>();
    const job = await runJob(stack, admin, 150_000, (j) => states.add(j.state));
    expect(states.has('WAITING')).toBe(true); // it told the admin it was waiting, with a retry time
    expect(job).toMatchObject({ state: 'COMPLETED', failed: 0, lastError: null });
    expect(Date.now() - since.getTime()).toBeGreaterThanOrEqual(60_000);
    expect(await syncedSince(stack, ids, since)).toBe(USERS);
  }, 180_000);
});

describe('bulk CRM sync resumes where it stopped', () => {
  let stack: TestStack;
  let admin: TestUser;

  beforeAll(async () => {
    // No background runner or flusher: this test drives the job by hand.
    stack = await startTestStack({ ...RATE, ...POLLING, CRM_FLUSH_INTERVAL_MS: '3600000' });
    admin = await registerUser(stack, 'Admin', ['user', 'admin']);
    await seedUsers(stack);
    // The admin's registration and confirmation events reach crm on their own; on PostgreSQL one
    // landing mid-page made that contact count as failed. The job is what is under test: start it settled.
    await settled(stack);
  });
  afterAll(() => stack?.stop());

  it('keeps its cursor across a stop and redoes no page', async () => {
    const since = new Date();
    const { id } = dataOf(await stack.graph(SyncAllUsersToCrmDocument, {}, { token: admin.token })).syncAllUsersToCrm;
    let checks = 0;
    expect(await stack.crm.bulk.runOnce(() => ++checks > 3)).toBe(3); // shutdown after three pages
    const paused = dataOf(await stack.graph(CrmSyncJobDocument, { id }, { token: admin.token })).crmSyncJob;
    expect(paused).toMatchObject({ state: 'RUNNING', done: 300, total: USERS + 1 });
    expect(await stack.crm.bulk.runOnce()).toBe(8); // another process takes over: the remaining 701 users
    const done = dataOf(await stack.graph(CrmSyncJobDocument, { id }, { token: admin.token })).crmSyncJob;
    expect(done).toMatchObject({ state: 'COMPLETED', done: USERS + 1, failed: 0 });
    expect(upsertsSince(stack, since)).toHaveLength(11);
  });
});
