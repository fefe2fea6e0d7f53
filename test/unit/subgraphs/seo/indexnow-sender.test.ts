import { randomUUID } from 'node:crypto';
import { eq, inArray } from 'drizzle-orm';
import type { DatabaseHandle } from '../../../../lib/db';
import { createProviderPolicy } from '../../../../lib/resilience';
import { indexNowHosts, indexNowUrls } from '../../../../subgraphs/seo/db/schema';
import { IndexNowSender, submissionReason } from '../../../../subgraphs/seo/domain/indexnow-sender';
import {
  IndexNowError,
  type IndexNowBatch,
  type IndexNowGateway,
} from '../../../../subgraphs/seo/provider/indexnow.port';
import { silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

/** IndexNow in memory: every POST that reached it (accepted or not), failures on demand. */
class FakeIndexNow implements IndexNowGateway {
  /** Batches IndexNow accepted. */
  accepted: IndexNowBatch[] = [];
  /** Every attempt, failed ones too. */
  attempts = 0;
  /** What the next calls throw, one per call (then they succeed). */
  failures: IndexNowError[] = [];
  /** Runs inside a call before it answers: a change can land (or another sender run) while it is in flight. */
  during: () => Promise<void> = async () => undefined;
  async submit(batch: IndexNowBatch): Promise<{ status: number }> {
    this.attempts++;
    await this.during();
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.accepted.push(structuredClone(batch));
    return { status: 200 };
  }
  isTransient = (err: unknown) => err instanceof IndexNowError && err.kind === 'unavailable';
  isOutage = this.isTransient;
  /** How many times each URL was accepted. */
  counts = () =>
    this.accepted.flatMap((b) => b.urlList).reduce((m, u) => m.set(u, (m.get(u) ?? 0) + 1), new Map<string, number>());
}

const outage = () => new IndexNowError('unavailable', 'IndexNow answered 503', 503);
const tooMany = (retryAfterMs?: number) => new IndexNowError('rate_limited', 'too many requests', 429, retryAfterMs);
const refused = () => new IndexNowError('rejected', 'IndexNow refused the batch (403)', 403);

let handle: DatabaseHandle;
let fake: FakeIndexNow;
let clock: number;
const WINDOW = 2000;
const at = (ms: number) => (clock = ms);

function sender(options: { maxBatch?: number; retries?: number } = {}): IndexNowSender {
  return new IndexNowSender({
    db: handle.db,
    gateway: fake,
    policy: createProviderPolicy({
      provider: 'indexnow',
      isTransient: fake.isTransient,
      logger: silentLogger,
      retries: options.retries ?? 0,
      initialDelayMs: 1,
      maxDelayMs: 2,
      breakerThreshold: 1000,
    }),
    logger: silentLogger,
    key: 'test-key-12345678',
    keyLocation: (host) => `http://${host}/test-key-12345678.txt`,
    batchWindowMs: WINDOW,
    maxAttempts: 3,
    maxBatch: options.maxBatch,
    now: () => new Date(clock),
  });
}
const listingsOn = (host: string, n: number) =>
  Array.from({ length: n }, () => {
    const listingId = randomUUID();
    return { listingId, url: `https://${host}/listings/${listingId}-title` };
  });
const rowsOf = (ids: string[]) => handle.db.select().from(indexNowUrls).where(inArray(indexNowUrls.listingId, ids));
/** Flushes until nothing is claimed; returns the outcomes. */
async function drain(s: IndexNowSender) {
  const out = [];
  for (let o = await s.flush(); o.claimed > 0; o = await s.flush()) out.push(o);
  return out;
}

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(async () => {
  await handle.db.delete(indexNowUrls);
  await handle.db.delete(indexNowHosts);
  fake = new FakeIndexNow();
  at(Date.UTC(2026, 11, 6, 12, 0, 0));
});

describe('submissionReason', () => {
  const t0 = new Date(1_000);
  const t1 = new Date(2_000);
  const was = (status: string) => ({ status, contentChangedAt: t0 });
  it.each([
    ['first seen ACTIVE', undefined, 'ACTIVE', t0, 'publish'],
    ['paid', was('PENDING_PAYMENT'), 'ACTIVE', t0, 'publish'],
    ['active again', was('WITHDRAWN'), 'ACTIVE', t0, 'publish'],
    ['public content changed', was('ACTIVE'), 'ACTIVE', t1, 'change'],
    ['redelivered, nothing changed', was('ACTIVE'), 'ACTIVE', t0, null],
    ['withdrawn', was('ACTIVE'), 'WITHDRAWN', t0, 'withdrawal'],
    ['expired', was('ACTIVE'), 'EXPIRED', t0, 'expiry'],
    ['a draft edited', was('DRAFT'), 'DRAFT', t1, null],
    ['withdrawn before it was public', was('PENDING_PAYMENT'), 'WITHDRAWN', t0, null],
    ['first seen as a draft', undefined, 'DRAFT', t0, null],
    ['edited after withdrawal', was('WITHDRAWN'), 'WITHDRAWN', t1, null],
  ] as const)('%s: %#', (_label, before, status, changedAt, reason) => {
    expect(submissionReason(before, { status, contentChangedAt: changedAt })).toBe(reason);
  });
});

describe('IndexNowSender: batching', () => {
  it('holds a burst for the batch window, then sends its 200 URLs in one POST with the key and key location', async () => {
    const s = sender();
    const burst = listingsOn('saypro.example', 200);
    // Queued over a second, in small groups, as events arrive.
    for (let i = 0; i < burst.length; i += 10) {
      at(clock + 50);
      await s.queue(handle.db, burst.slice(i, i + 10));
    }
    expect(await s.flush()).toEqual({ claimed: 0, submitted: 0 }); // the first is not due yet
    at(clock + WINDOW);
    expect(await drain(s)).toEqual([{ claimed: 200, submitted: 200 }]);
    expect(fake.accepted).toHaveLength(1);
    expect(fake.accepted[0]).toMatchObject({
      host: 'saypro.example',
      key: 'test-key-12345678',
      keyLocation: 'http://saypro.example/test-key-12345678.txt',
    });
    expect([...fake.counts().keys()].sort()).toEqual(burst.map((l) => l.url).sort());
    const rows = await rowsOf(burst.map((l) => l.listingId));
    expect(rows.every((r) => r.status === 'SUBMITTED' && r.lastSubmittedAt?.getTime() === clock)).toBe(true);
    expect(rows.every((r) => r.lastSubmittedUrl === r.url && r.claimedUntil === null)).toBe(true);
  });

  it('splits a backlog at maxBatch and keeps hosts apart: one POST per host and per maxBatch URLs', async () => {
    const s = sender({ maxBatch: 80 });
    const a = listingsOn('saypro.example', 200);
    const b = listingsOn('jobs.saypro.example', 30);
    await s.queue(handle.db, [...a, ...b]);
    at(clock + WINDOW);
    await drain(s);
    expect(fake.accepted.map((batch) => [batch.host, batch.urlList.length]).sort()).toEqual(
      [
        ['jobs.saypro.example', 30],
        ['saypro.example', 80],
        ['saypro.example', 80],
        ['saypro.example', 40],
      ].sort(),
    );
    for (const batch of fake.accepted) expect(batch.urlList.every((u) => new URL(u).host === batch.host)).toBe(true);
    expect([...fake.counts().values()].every((n) => n === 1)).toBe(true);
    expect(fake.counts().size).toBe(230);
  });

  it('keeps a queued URL at its first due time however often it changes meanwhile, and sends it once', async () => {
    const s = sender();
    const [l] = listingsOn('saypro.example', 1);
    await s.queue(handle.db, [l!]);
    const first = clock;
    for (let i = 1; i <= 5; i++) {
      at(first + i * 300);
      await s.queue(handle.db, [{ ...l!, url: `${l!.url}-v${i}` }]);
    }
    at(first + WINDOW);
    await drain(s);
    expect(fake.accepted.map((b) => b.urlList)).toEqual([[`${l!.url}-v5`]]);
  });
});

describe('IndexNowSender: failures', () => {
  it('honours a 429 Retry-After for the whole host, then sends everything once', async () => {
    const s = sender();
    const early = listingsOn('saypro.example', 3);
    await s.queue(handle.db, early);
    at(clock + WINDOW);
    fake.failures = [tooMany(30_000)];
    expect(await drain(s)).toEqual([{ claimed: 3, submitted: 0 }]);
    const held = clock;
    for (const row of await rowsOf(early.map((l) => l.listingId)))
      expect(row).toMatchObject({ status: 'RETRYING', attempts: 0, nextAttemptAt: new Date(held + 30_000) });
    // A URL of the same host queued meanwhile waits too: the 429 is about the host.
    const later = listingsOn('saypro.example', 1);
    await s.queue(handle.db, later);
    at(held + 20_000);
    expect(await drain(s)).toEqual([]);
    expect(fake.attempts).toBe(1);
    at(held + 30_001);
    expect(await drain(s)).toEqual([{ claimed: 4, submitted: 4 }]);
    expect(fake.accepted).toHaveLength(1);
    expect([...fake.counts().keys()].sort()).toEqual([...early, ...later].map((l) => l.url).sort());
  });

  it('loses nothing and sends nothing twice through an outage longer than maxAttempts', async () => {
    const s = sender({ retries: 1 });
    const burst = listingsOn('saypro.example', 50);
    await s.queue(handle.db, burst);
    at(clock + WINDOW);
    fake.failures = Array.from({ length: 10 }, outage); // five flushes of two attempts each
    const waits: number[] = [];
    for (let round = 1; round <= 5; round++) {
      expect(await drain(s)).toEqual([{ claimed: 50, submitted: 0 }]);
      const rows = await rowsOf(burst.map((l) => l.listingId));
      expect(rows.every((r) => r.status === 'RETRYING' && r.attempts === round && r.claimedUntil === null)).toBe(true);
      const next = rows[0]!.nextAttemptAt.getTime();
      waits.push(next - clock);
      expect(await drain(s)).toEqual([]); // backing off
      at(next);
    }
    // The shared backoff grows (1 s, 2 s, 4 s … with ±20 % jitter), and an outage never fails a URL.
    expect(waits[4]!).toBeGreaterThan(waits[0]!);
    expect(await drain(s)).toEqual([{ claimed: 50, submitted: 50 }]);
    expect(fake.accepted).toHaveLength(1);
    expect([...fake.counts().values()].every((n) => n === 1)).toBe(true);
    expect(fake.counts().size).toBe(50);
    expect((await rowsOf(burst.map((l) => l.listingId))).every((r) => r.status === 'SUBMITTED')).toBe(true);
  });

  it('marks a URL IndexNow keeps refusing FAILED after maxAttempts', async () => {
    const s = sender();
    const [l] = listingsOn('saypro.example', 1);
    await s.queue(handle.db, [l!]);
    fake.failures = [refused(), refused(), refused()];
    for (let i = 0; i < 3; i++) {
      const [row] = await rowsOf([l!.listingId]);
      at(Math.max(clock, row!.nextAttemptAt.getTime()));
      await drain(s);
    }
    const [row] = await rowsOf([l!.listingId]);
    expect(row).toMatchObject({ status: 'FAILED', attempts: 3 });
    expect(row!.lastError).toMatch(/403/);
    at(clock + 3_600_000);
    expect(await drain(s)).toEqual([]);
    // A resubmission starts afresh.
    await s.queue(handle.db, [l!]);
    at(clock + WINDOW);
    expect(await drain(s)).toEqual([{ claimed: 1, submitted: 1 }]);
  });
});

describe('IndexNowSender: claims', () => {
  it('never lets two senders send the same batch', async () => {
    const one = sender();
    const two = sender();
    const burst = listingsOn('saypro.example', 40);
    await one.queue(handle.db, burst);
    at(clock + WINDOW);
    let secondRun: Awaited<ReturnType<IndexNowSender['flush']>> | undefined;
    fake.during = async () => {
      fake.during = async () => undefined;
      // While the first sender's POST is in flight, the second finds nothing to claim.
      secondRun = await two.flush();
    };
    expect(await one.flush()).toEqual({ claimed: 40, submitted: 40 });
    expect(secondRun).toEqual({ claimed: 0, submitted: 0 });
    expect(fake.accepted).toHaveLength(1);
    expect(await two.flush()).toEqual({ claimed: 0, submitted: 0 });
  });

  it('gives claims made at the same moment disjoint rows (FOR UPDATE SKIP LOCKED; on PostgreSQL truly concurrent)', async () => {
    const senders = Array.from({ length: 5 }, () => sender({ maxBatch: 10 }));
    const burst = listingsOn('saypro.example', 100);
    await senders[0]!.queue(handle.db, burst);
    at(clock + WINDOW);
    const claims = await Promise.all(senders.map((s) => s.claim()));
    const ids = claims.flat().map((c) => c.listingId);
    expect(claims.every((c) => c.length <= 10)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(50);
  });

  it('takes over the rows of a sender that died holding them once its claim runs out', async () => {
    const s = sender();
    const burst = listingsOn('saypro.example', 5);
    await s.queue(handle.db, burst);
    at(clock + WINDOW);
    expect(await s.claim()).toHaveLength(5); // claimed, then "crashed" before sending
    expect(await drain(s)).toEqual([]);
    at(clock + 120_001);
    expect(await drain(s)).toEqual([{ claimed: 5, submitted: 5 }]);
  });

  it('sends a change that lands while its URL is in flight again, in the next batch', async () => {
    const s = sender();
    const [l] = listingsOn('saypro.example', 1);
    await s.queue(handle.db, [l!]);
    at(clock + WINDOW);
    fake.during = async () => {
      fake.during = async () => undefined;
      await s.queue(handle.db, [{ ...l!, url: `${l!.url}-edited` }]);
    };
    await s.flush();
    const [row] = await handle.db.select().from(indexNowUrls).where(eq(indexNowUrls.listingId, l!.listingId));
    expect(row).toMatchObject({ status: 'PENDING', claimedUntil: null, url: `${l!.url}-edited` });
    expect(row!.lastSubmittedAt?.getTime()).toBe(clock);
    at(clock + WINDOW);
    await drain(s);
    expect(fake.accepted.map((b) => b.urlList)).toEqual([[l!.url], [`${l!.url}-edited`]]);
  });
});
