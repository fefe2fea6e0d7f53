import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { eq, inArray } from 'drizzle-orm';
import type { Viewer } from '../../../../lib/auth';
import type { DatabaseHandle } from '../../../../lib/db';
import type { EntityClient } from '../../../../lib/entity-client';
import type { EventEnvelope, EventPayloads } from '../../../../lib/events';
import { createLogger } from '../../../../lib/logger';
import { consents, deliveries, outbox, refundTotals } from '../../../../subgraphs/analytics/db/schema';
import { AnalyticsService, requestsOf } from '../../../../subgraphs/analytics/domain/analytics.service';
import { ga4EventOf, type AnalyticsEventName } from '../../../../subgraphs/analytics/domain/event-mapping';
import { pseudonymOf } from '../../../../subgraphs/analytics/domain/pseudonym';
import {
  Ga4Error,
  type CollectOutcome,
  type Ga4Gateway,
  type Ga4Payload,
  type ValidationMessage,
} from '../../../../subgraphs/analytics/provider/ga4-gateway.port';
import { FakeOutage, fastPolicy, silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

/** GA4 in memory: every request that got through, outages and refusals on demand. */
class FakeGa4 implements Ga4Gateway {
  requests: Array<{ payload: Ga4Payload; validate: boolean }> = [];
  /** Calls that fail (transiently) before one gets through, retries included. */
  failNext = 0;
  /** Answer 400 (a refusal, never retried). */
  refuse = false;
  messages: ValidationMessage[] = [];
  /** How long each call takes, ms. */
  delayMs = 0;
  async collect(payload: Ga4Payload, options: { validate: boolean }): Promise<CollectOutcome> {
    if (this.delayMs) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failNext > 0) {
      this.failNext--;
      throw new FakeOutage('GA4 503');
    }
    if (this.refuse) throw new Ga4Error('rejected', 'GA4 answered 400', 400);
    this.requests.push({ payload: structuredClone(payload), validate: options.validate });
    return { status: options.validate ? 200 : 204, validationMessages: options.validate ? this.messages : [] };
  }
  isTransient = (err: unknown) => err instanceof FakeOutage;
  isOutage = (err: unknown) => err instanceof FakeOutage;
  /** Every event that reached GA4, with its client id. */
  events = () => this.requests.flatMap((r) => r.payload.events.map((e) => ({ clientId: r.payload.client_id, ...e })));
}

const SECRET = 'a-test-secret-of-at-least-32-characters!';
const listings = (async (_t: string, ids: readonly string[]) => ids.map((id) => ({ id }))) as unknown as EntityClient;
let handle: DatabaseHandle;
let ga4: FakeGa4;

function service(overrides: Partial<ConstructorParameters<typeof AnalyticsService>[0]> = {}) {
  return new AnalyticsService({
    db: handle.db,
    gateway: ga4,
    policy: fastPolicy('ga4', { retries: 0 }),
    listings,
    logger: silentLogger,
    idSecret: SECRET,
    consentDefault: 'granted',
    consentWaitMs: 0,
    validate: false,
    retryBaseDelayMs: 1000,
    retryMaxDelayMs: 60_000,
    ...overrides,
  });
}

function envelope<N extends AnalyticsEventName>(name: N, data: EventPayloads[N], id = randomUUID()): EventEnvelope<N> {
  return { id, name, source: 'test', occurredAt: new Date().toISOString(), data };
}
const signUp = (userId: string) => envelope('user.created', { userId, name: 'Ada Lovelace', email: 'ada@example.com' });
/** Records events as the consumer does: each in its own transaction. */
const record = (analytics: AnalyticsService, ...events: Array<EventEnvelope<AnalyticsEventName>>) =>
  Promise.all(events.map((e) => handle.db.transaction((tx) => analytics.record(tx, e))));
/** Makes every queued event due now (its backoff run out). */
const due = () => handle.db.update(outbox).set({ nextAttemptAt: new Date(Date.now() - 1000) });
const rowsOf = (userId: string) => handle.db.select().from(outbox).where(eq(outbox.userId, userId));

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(async () => {
  for (const table of [outbox, deliveries, consents, refundTotals]) await handle.db.delete(table);
  ga4 = new FakeGa4();
});

describe('ga4EventOf: which domain event becomes which GA4 event', () => {
  const userId = randomUUID();
  const listingId = randomUUID();
  const paymentId = randomUUID();
  const cases: Array<[string, EventEnvelope<AnalyticsEventName>, unknown]> = [
    ['a sign-up', signUp(userId), { userId, event: { name: 'sign_up', params: { method: 'email' } } }],
    [
      'a listing created ACTIVE (free)',
      envelope('listing.created', {
        listingId,
        sellerId: userId,
        status: 'ACTIVE',
        category: 'JOBS',
        priceAmount: 0,
        currency: 'USD',
      }),
      { userId, event: { name: 'listing_published', params: { listing_id: listingId, listing_category: 'JOBS' } } },
    ],
    [
      'a listing created awaiting its fee',
      envelope('listing.created', {
        listingId,
        sellerId: userId,
        status: 'PENDING_PAYMENT',
        category: 'VEHICLES',
        priceAmount: 100,
        currency: 'USD',
      }),
      null,
    ],
    [
      'a listing going ACTIVE (paid)',
      envelope('listing.status_changed', { listingId, sellerId: userId, from: 'PENDING_PAYMENT', to: 'ACTIVE' }),
      { userId, event: { name: 'listing_published', params: { listing_id: listingId } } },
    ],
    [
      'a listing expiring',
      envelope('listing.status_changed', { listingId, sellerId: userId, from: 'ACTIVE', to: 'EXPIRED' }),
      null,
    ],
    [
      'a posting fee paid',
      envelope('payment.succeeded', {
        paymentId,
        listingId,
        userId,
        amount: 1050,
        currency: 'USD',
        providerReference: 'pi_1',
      }),
      {
        userId,
        event: {
          name: 'purchase',
          params: {
            transaction_id: paymentId,
            value: 10.5,
            currency: 'USD',
            items: [
              {
                item_id: listingId,
                item_name: 'listing posting fee',
                item_category: 'posting_fee',
                price: 10.5,
                quantity: 1,
              },
            ],
          },
        },
      },
    ],
    [
      'a fee in a currency without decimals',
      envelope('payment.succeeded', {
        paymentId,
        listingId,
        userId,
        amount: 1000,
        currency: 'JPY',
        providerReference: 'pi_2',
      }),
      { userId, event: { name: 'purchase', params: expect.objectContaining({ value: 1000, currency: 'JPY' }) } },
    ],
    [
      'a full refund',
      envelope('payment.refunded', {
        paymentId,
        listingId,
        userId,
        amountRefunded: 1000,
        currency: 'USD',
        fullyRefunded: true,
      }),
      { userId, event: { name: 'refund', params: { transaction_id: paymentId, value: 10, currency: 'USD' } } },
    ],
  ];
  it.each(cases)('%s', (_what, event, expected) => {
    expect(ga4EventOf(event)).toEqual(expected);
  });

  it('a partial refund gives GA4 what this refund returned, not the running total', () => {
    const event = envelope('payment.refunded', {
      paymentId,
      listingId,
      userId,
      amountRefunded: 600,
      currency: 'USD',
      fullyRefunded: false,
    });
    expect(ga4EventOf(event, { refundedBefore: 400 })?.event.params).toMatchObject({ value: 2, currency: 'USD' });
    expect(ga4EventOf(event, { refundedBefore: 600 })).toBeNull();
  });

  it('never carries the name or email of the user', () => {
    const mapped = ga4EventOf(signUp(userId));
    expect(JSON.stringify(mapped)).not.toMatch(/Ada|example\.com/);
  });
});

describe('AnalyticsService: exactly once from our side', () => {
  it('sends a redelivered event once', async () => {
    const analytics = service();
    const userId = randomUUID();
    const event = signUp(userId);
    await record(analytics, event);
    await record(analytics, event);
    await analytics.flush();
    await analytics.flush();
    expect(ga4.events().map((e) => e.name)).toEqual(['sign_up']);
    expect(await rowsOf(userId)).toEqual([expect.objectContaining({ eventId: event.id, status: 'SENT' })]);
  });

  it('sends 60 events of one user in 3 requests of at most 25, all under one pseudonymous client id', async () => {
    const analytics = service();
    const userId = randomUUID();
    const other = randomUUID();
    const listingEvents = Array.from({ length: 60 }, () =>
      envelope('listing.status_changed', {
        listingId: randomUUID(),
        sellerId: userId,
        from: 'PENDING_PAYMENT',
        to: 'ACTIVE',
      }),
    );
    await record(analytics, ...listingEvents, signUp(other));
    await analytics.flush();
    const mine = ga4.requests.filter((r) => r.payload.client_id === pseudonymOf(userId, SECRET));
    expect(mine.map((r) => r.payload.events.length)).toEqual([25, 25, 10]);
    expect(ga4.requests).toHaveLength(4);
    const ids = new Set(mine.flatMap((r) => r.payload.events.map((e) => e.params.listing_id)));
    expect(ids.size).toBe(60);
    for (const r of ga4.requests) {
      expect(r.payload.client_id).toMatch(/^[0-9a-f]{32}$/);
      expect(r.payload.user_id).toBe(r.payload.client_id);
      expect([userId, other]).not.toContain(r.payload.client_id);
      expect(r.payload.consent).toEqual({ ad_user_data: 'DENIED', ad_personalization: 'DENIED' });
    }
    expect(await analytics.flush()).toBe(0);
  });

  it('splits a request that would pass 130 kB even under 25 events', () => {
    const big = { name: 'listing_published', params: { note: 'x'.repeat(20_000) } };
    const rows = Array.from({ length: 10 }, () => ({ event: big, occurredAt: new Date() }));
    const requests = requestsOf('c'.repeat(32), rows);
    expect(requests.length).toBeGreaterThan(1);
    for (const r of requests) expect(Buffer.byteLength(JSON.stringify(r))).toBeLessThan(130 * 1024);
    expect(requests.flat()).toHaveLength(10);
  });

  it('loses nothing and sends nothing twice through an outage', async () => {
    const analytics = service();
    const userId = randomUUID();
    const published = () =>
      envelope('listing.status_changed', { listingId: randomUUID(), sellerId: userId, from: 'DRAFT', to: 'ACTIVE' });
    const events = Array.from({ length: 30 }, published);
    await record(analytics, ...events);
    ga4.failNext = 1000;
    await analytics.flush();
    expect(ga4.requests).toHaveLength(0);
    const waiting = await rowsOf(userId);
    expect(waiting.every((r) => r.status === 'QUEUED' && r.attempts === 1)).toBe(true);
    // The shared backoff holds them: nothing is due yet.
    expect(waiting.every((r) => r.nextAttemptAt.getTime() > Date.now())).toBe(true);
    expect(await analytics.flush()).toBe(0);
    await due();
    await analytics.flush();
    expect((await rowsOf(userId)).every((r) => r.attempts === 2)).toBe(true);
    ga4.failNext = 0;
    await due();
    await analytics.flush();
    await due();
    await analytics.flush();
    const sent = ga4.events();
    expect(sent).toHaveLength(30);
    expect(new Set(sent.map((e) => e.params.listing_id)).size).toBe(30);
    expect((await rowsOf(userId)).every((r) => r.status === 'SENT')).toBe(true);
    const answered = await handle.db.select().from(deliveries).where(eq(deliveries.status, 204));
    expect(answered.map((d) => d.eventIds.length).sort()).toEqual([25, 5]);
  });

  it('leaves events another sender claimed alone (FOR UPDATE SKIP LOCKED, then the claim)', async () => {
    const first = service();
    const second = service();
    const userId = randomUUID();
    await record(first, ...Array.from({ length: 5 }, () => signUp(userId)));
    const [a, b] = await Promise.all([first.flush(), second.flush()]);
    expect(a + b).toBe(5);
    expect(ga4.events()).toHaveLength(5);
  });

  it('starts no request in the second half of its claim: it lets the rest go, for this or another sender', async () => {
    const analytics = service({ claimMs: 2000 });
    const users = [randomUUID(), randomUUID(), randomUUID()];
    await record(analytics, ...users.map(signUp));
    ga4.delayMs = 1100;
    expect(await analytics.flush()).toBe(3);
    expect(ga4.requests).toHaveLength(1);
    const released = await handle.db.select().from(outbox).where(eq(outbox.status, 'QUEUED'));
    expect(released.map((r) => r.claimedUntil)).toEqual([null, null]);
    ga4.delayMs = 0;
    await analytics.flush();
    expect(ga4.requests.map((r) => r.payload.client_id).sort()).toEqual(
      users.map((u) => pseudonymOf(u, SECRET)).sort(),
    );
  });

  it('gives GA4 each refund’s own value when two refunds of one payment are recorded at once', async () => {
    const analytics = service();
    const [paymentId, listingId, userId] = [randomUUID(), randomUUID(), randomUUID()];
    const refund = (amountRefunded: number) =>
      envelope('payment.refunded', {
        paymentId,
        listingId,
        userId,
        amountRefunded,
        currency: 'USD',
        fullyRefunded: amountRefunded === 1000,
      });
    await record(analytics, refund(300), refund(1000));
    await analytics.flush();
    const values = ga4
      .events()
      .filter((e) => e.name === 'refund')
      .map((e) => e.params.value);
    // 3 + 7 or 10 + nothing: the two never both count from zero (which would give 3 + 10).
    expect((values as number[]).reduce((a, b) => a + b, 0)).toBe(10);
  });

  it('marks what GA4 refuses FAILED, not retried', async () => {
    const analytics = service();
    const userId = randomUUID();
    await record(analytics, signUp(userId));
    ga4.refuse = true;
    await analytics.flush();
    await due();
    expect(await analytics.flush()).toBe(0);
    expect(await rowsOf(userId)).toEqual([
      expect.objectContaining({ status: 'FAILED', lastError: 'GA4 answered 400' }),
    ]);
  });
});

describe('AnalyticsService: consent', () => {
  const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };
  const as = (userId: string): Viewer => ({ userId, roles: ['user'] });

  it('sends nothing for a user without consent (denied by default, nothing stored to send)', async () => {
    const analytics = service({ consentDefault: 'denied' });
    const userId = randomUUID();
    expect(await record(analytics, signUp(userId))).toEqual(['dropped']);
    await analytics.flush();
    expect(ga4.requests).toHaveLength(0);
    expect(await rowsOf(userId)).toEqual([]);
  });

  it('sends nothing for a user who declined, whatever the default', async () => {
    const analytics = service({ consentDefault: 'granted' });
    const userId = randomUUID();
    await analytics.setConsent(as(userId), userId, false);
    expect(await record(analytics, signUp(userId))).toEqual(['dropped']);
    await analytics.flush();
    expect(ga4.requests).toHaveLength(0);
  });

  it('holds an undecided user’s events for the wait, sends them when they agree, drops them when they decline', async () => {
    const analytics = service({ consentDefault: 'denied', consentWaitMs: 60_000 });
    const yes = randomUUID();
    const no = randomUUID();
    expect(await record(analytics, signUp(yes), signUp(no))).toEqual(['held', 'held']);
    await analytics.flush();
    expect(ga4.requests).toHaveLength(0);
    expect((await analytics.setConsent(as(yes), yes, true)).granted).toBe(true);
    await analytics.setConsent(admin, no, false);
    await analytics.flush();
    expect(ga4.requests.map((r) => r.payload.client_id)).toEqual([pseudonymOf(yes, SECRET)]);
    expect(await rowsOf(no)).toEqual([]);
    expect(await analytics.consentsOf([yes, no, randomUUID()])).toEqual([
      expect.objectContaining({ userId: yes, granted: true, decidedAt: expect.any(Date) }),
      expect.objectContaining({ userId: no, granted: false }),
      expect.objectContaining({ granted: false, decidedAt: null }),
    ]);
  });

  it('settles held events whose decision was recorded while their own transaction was still open', async () => {
    const analytics = service({ consentDefault: 'denied', consentWaitMs: 60_000 });
    const yes = randomUUID();
    const no = randomUUID();
    await record(analytics, signUp(yes), signUp(no));
    // What setConsent stored in a transaction that could not see the held rows yet:
    await handle.db.insert(consents).values([
      { userId: yes, granted: true, updatedAt: new Date() },
      { userId: no, granted: false, updatedAt: new Date() },
    ]);
    await analytics.flush();
    expect(ga4.requests.map((r) => r.payload.client_id)).toEqual([pseudonymOf(yes, SECRET)]);
    expect(await rowsOf(no)).toEqual([]);
  });

  it('never sends a queued event of a user whose decline raced it (granted default: the event saw no decision)', async () => {
    const analytics = service({ consentDefault: 'granted' });
    const userId = randomUUID();
    expect(await record(analytics, signUp(userId))).toEqual(['queued']);
    // What setConsent(false) stored in a transaction that could not see the queued row yet:
    await handle.db.insert(consents).values({ userId, granted: false, updatedAt: new Date() });
    await analytics.flush();
    expect(ga4.requests).toHaveLength(0);
    expect(await rowsOf(userId)).toEqual([]);
  });

  it('drops held events once the wait for a decision runs out', async () => {
    const analytics = service({ consentDefault: 'denied', consentWaitMs: 60_000 });
    const userId = randomUUID();
    await record(analytics, signUp(userId));
    await handle.db
      .update(outbox)
      .set({ createdAt: new Date(Date.now() - 61_000) })
      .where(inArray(outbox.userId, [userId]));
    await analytics.flush();
    expect(await rowsOf(userId)).toEqual([]);
    expect(ga4.requests).toHaveLength(0);
  });

  it('lets only the user themself or an admin decide, and refuses a malformed id', async () => {
    const analytics = service();
    const userId = randomUUID();
    await expect(analytics.setConsent(as(randomUUID()), userId, true)).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
    await expect(analytics.setConsent(admin, 'not-a-uuid', true)).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
    });
  });
});

describe('AnalyticsService: validation mode and the admin view', () => {
  it('sends to the validation server, keeps its messages, logs them and shows them with the backlog', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'info',
      destination: new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(chunk.toString('utf8'));
          done();
        },
      }),
    });
    const analytics = service({ validate: true, logger });
    const userId = randomUUID();
    ga4.messages = [{ fieldPath: 'events', description: 'Event at index: [0] has …', validationCode: 'NAME_INVALID' }];
    await record(analytics, signUp(userId));
    await analytics.flush();
    expect(ga4.requests.map((r) => r.validate)).toEqual([true]);
    expect(await rowsOf(userId)).toEqual([expect.objectContaining({ status: 'VALIDATED' })]);
    const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        level: 'warn',
        msg: 'GA4 validation server found problems in our events',
        validationMessages: ga4.messages,
      }),
    );
    const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };
    const backlog = await analytics.backlog(admin, 10);
    expect(backlog).toMatchObject({
      queued: 0,
      validation: true,
      lastValidationMessages: ga4.messages,
      recentDeliveries: [expect.objectContaining({ eventNames: ['sign_up'], status: 200, validation: true })],
    });
    await expect(analytics.backlog({ userId, roles: ['user'] }, 10)).rejects.toMatchObject({
      extensions: { code: 'FORBIDDEN' },
    });
  });

  it('counts the backlog: queued with its oldest age, failed', async () => {
    const analytics = service();
    const userId = randomUUID();
    await record(analytics, signUp(userId), signUp(userId));
    expect(await analytics.backlogCounts()).toMatchObject({ queued: 2, held: 0, failed: 0 });
  });
});
