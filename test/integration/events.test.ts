import { sql } from 'drizzle-orm';
import {
  CreateListingDocument,
  DeadEventsDocument,
  RegisterUserDocument,
  ReplayDeadEventsDocument,
  SubmitListingDocument,
  UpdateListingDocument,
  UpdateUserDocument,
  WithdrawListingDocument,
} from '../generated/graphql';
import { EVENT_NAMES, type ConsumerOptions, type EventEnvelope } from '../../lib/events';
import { toCount } from '../../lib/db';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, listingInput, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { startTestStack, type TestStack } from '../helpers/stack';

const PROBE = 'test.probe';
let stack: TestStack;
let ada: TestUser;

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return ((await stack.handle.db.execute(query)) as unknown as { rows: T[] }).rows;
}
/** Events the probe queue received, oldest first; clears it. */
async function drainProbe(): Promise<EventEnvelope[]> {
  const jobs = await rows<{ data: EventEnvelope | string }>(
    sql`select data from pgboss.job where name = ${PROBE} order by created_on, id`,
  );
  await stack.handle.db.execute(sql`delete from pgboss.job where name = ${PROBE}`);
  return jobs.map((j) => (typeof j.data === 'string' ? (JSON.parse(j.data) as EventEnvelope) : j.data));
}

beforeAll(async () => {
  // A short lease, so the redelivery of a dead consumer's events is seconds here too.
  stack = await startTestStack({ POSTING_FEES: '{"JOBS":0}', EVENT_LEASE_SECONDS: '2' });
  await stack.bus.subscribe(PROBE, EVENT_NAMES);
  ada = await registerUser(stack, 'Ada');
});
beforeEach(() => drainProbe());
afterAll(() => stack?.stop());

describe('events published with every state change', () => {
  it('user.created and user.updated carry the change and the request id', async () => {
    const res = await stack.graph(RegisterUserDocument, {
      input: { name: 'Eve', email: `eve.${Date.now()}@example.com` },
    });
    const eve = dataOf(res).registerUser;
    dataOf(
      await stack.graph(
        UpdateUserDocument,
        { id: eve.id, input: { name: 'Eve A.' } },
        { token: await stack.token(eve.id) },
      ),
    );
    const events = await drainProbe();
    expect(events.map((e) => e.name)).toEqual(['user.created', 'user.updated']);
    expect(events[0]).toMatchObject({
      source: 'listings',
      data: { userId: eve.id, name: 'Eve' },
      requestId: res.headers.get('x-request-id'),
    });
    expect(events[1]!.data).toEqual({ userId: eve.id, changed: ['name'] });
    expect(new Set(events.map((e) => e.id)).size).toBe(2);
  });

  it('listing.created, listing.updated and listing.status_changed follow the lifecycle', async () => {
    const draft = await createListing(stack, ada, { draft: true });
    dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: draft.id, input: { title: 'Renamed bike' } },
        { token: ada.token },
      ),
    );
    dataOf(await stack.graph(SubmitListingDocument, { id: draft.id }, { token: ada.token }));
    dataOf(await stack.graph(WithdrawListingDocument, { id: draft.id }, { token: ada.token }));
    const events = await drainProbe();
    expect(events.map((e) => [e.name, e.data])).toEqual([
      [
        'listing.created',
        {
          listingId: draft.id,
          sellerId: ada.id,
          status: 'DRAFT',
          category: 'VEHICLES',
          priceAmount: 25_000,
          currency: 'USD',
        },
      ],
      ['listing.updated', { listingId: draft.id, sellerId: ada.id, changed: ['title'] }],
      ['listing.status_changed', { listingId: draft.id, sellerId: ada.id, from: 'DRAFT', to: 'PENDING_PAYMENT' }],
      ['listing.status_changed', { listingId: draft.id, sellerId: ada.id, from: 'PENDING_PAYMENT', to: 'WITHDRAWN' }],
    ]);
  });

  it('expiry moves ACTIVE listings past their time to EXPIRED with one event each, once', async () => {
    const listing = await createListing(stack, ada, { category: 'JOBS' });
    await drainProbe();
    const later = new Date(Date.parse(listing.expiresAt!) + 1000);
    expect(await stack.listings.listings.expireDue(later)).toBeGreaterThanOrEqual(1);
    expect(await stack.listings.listings.expireDue(later)).toBe(0);
    const events = (await drainProbe()).filter(
      (e) => e.name === 'listing.status_changed' && (e.data as { listingId: string }).listingId === listing.id,
    );
    expect(events.map((e) => e.data)).toEqual([
      { listingId: listing.id, sellerId: ada.id, from: 'ACTIVE', to: 'EXPIRED' },
    ]);
  });

  it('a refused mutation publishes nothing', async () => {
    expect(
      errorOf(await stack.graph(CreateListingDocument, { input: listingInput({ title: 'x' }) }, { token: ada.token }))
        .extensions.code,
    ).toBe('BAD_USER_INPUT');
    expect(
      errorOf(await stack.graph(RegisterUserDocument, { input: { name: 'Bad Address', email: 'not-an-address' } }))
        .extensions.code,
    ).toBe('BAD_USER_INPUT');
    expect(
      errorOf(await stack.graph(UpdateUserDocument, { id: ada.id, input: { name: 'Nope' } })).extensions.code,
    ).toBe('FORBIDDEN');
    expect(await drainProbe()).toEqual([]);
  });
});

describe('events and changes commit together', () => {
  it('rolls back the event with the transaction that published it', async () => {
    const before = await drainProbe();
    expect(before).toEqual([]);
    await expect(
      stack.handle.db.transaction(async (tx) => {
        await stack.bus.publish(tx, 'user.updated', { userId: ada.id, changed: ['name'] });
        throw new Error('boom after publish');
      }),
    ).rejects.toThrow('boom after publish');
    expect(await drainProbe()).toEqual([]);
  });

  it('rolls back the change when its event cannot be queued, and says so without internals', async () => {
    const broken = 'test.broken-consumer';
    await stack.bus.subscribe(broken, ['listing.created']);
    // Break that consumer's storage: pg-boss keeps each queue in its own partition of pgboss.job.
    const [queue] = await rows<{ table_name: string }>(
      sql`select partition_name as table_name from pgboss.queue where name = ${broken}`,
    );
    await stack.handle.db.execute(sql.raw(`drop table pgboss.${queue!.table_name}`));
    const countListings = async () =>
      toCount((await rows<{ n: unknown }>(sql`select count(*) as n from listings.listings`))[0]!.n);
    const before = await countListings();
    try {
      const result = await stack.graph(
        CreateListingDocument,
        { input: listingInput({ title: 'Never stored' }) },
        { token: ada.token },
      );
      expect(errorOf(result)).toMatchObject({
        message: 'Internal server error',
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      });
      expect(JSON.stringify(result.errors)).not.toMatch(/partition|pgboss|stack/i);
      expect(await countListings()).toBe(before);
      expect(await drainProbe()).toEqual([]);
    } finally {
      await stack.handle.db.execute(sql`delete from pgboss.subscription where name = ${broken}`);
    }
    // With the broken consumer gone the same mutation works and its event is queued.
    dataOf(
      await stack.graph(CreateListingDocument, { input: listingInput({ title: 'Stored now' }) }, { token: ada.token }),
    );
    expect((await drainProbe()).map((e) => e.name)).toEqual(['listing.created']);
  });
});

describe('a failing consumer', () => {
  it('fails only the poison event of a batch, dead-letters it, and replays it once fixed', async () => {
    const queue = 'test.poison';
    const handled: string[] = [];
    let broken = true;
    await stack.bus.consume({
      queue,
      events: ['user.updated'],
      db: stack.handle.db,
      inboxSchema: 'listings',
      retryLimit: 1,
      retryDelaySeconds: 1,
      pollingIntervalSeconds: 0.5,
      handler: async (_tx, event) => {
        if (broken && event.data.changed.includes('poison')) throw new Error('cannot handle this one');
        handled.push(event.data.changed[0]!);
      },
    });
    // One batch: a healthy event, the poison one, and healthy ones after it.
    await stack.handle.db.transaction(async (tx) => {
      for (const changed of ['first', 'poison', 'third', 'fourth'])
        await stack.bus.publish(tx, 'user.updated', { userId: ada.id, changed: [changed] });
    });
    const dead = await eventually(
      () => stack.bus.deadLetters({ queue }),
      (d) => d.length === 1,
      20_000,
    );
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({
      queue,
      event: { name: 'user.updated', data: { changed: ['poison'] } },
      error: { name: 'Error', message: 'cannot handle this one' },
    });
    expect(handled.sort()).toEqual(['first', 'fourth', 'third']); // each healthy one once, none dragged along
    expect((await stack.bus.deadLetters()).map((d) => d.id)).toContain(dead[0]!.id); // the all-queues view too

    // Admins see it through the graph, with its event and error; replaying it is one mutation.
    const admin = await registerUser(stack, 'Ops Admin', ['user', 'admin'], { confirmed: false }); // confirming would publish a user.updated into this queue
    const listed = dataOf(await stack.graph(DeadEventsDocument, { queue }, { token: admin.token })).deadEvents;
    expect(listed).toEqual([
      expect.objectContaining({
        id: dead[0]!.id,
        queue,
        eventName: 'user.updated',
        eventId: dead[0]!.event.id,
        source: 'embedded',
        error: 'Error: cannot handle this one',
        data: { userId: ada.id, changed: ['poison'] },
      }),
    ]);
    expect(errorOf(await stack.graph(DeadEventsDocument, { queue }, { token: ada.token })).extensions.code).toBe(
      'FORBIDDEN',
    );
    expect(
      errorOf(await stack.graph(ReplayDeadEventsDocument, { ids: [dead[0]!.id] }, { token: ada.token })).extensions
        .code,
    ).toBe('FORBIDDEN');

    broken = false;
    expect(
      dataOf(await stack.graph(ReplayDeadEventsDocument, { ids: [dead[0]!.id, dead[0]!.id] }, { token: admin.token }))
        .replayDeadEvents,
    ).toBe(1);
    await eventually(
      async () => handled.length,
      (n) => n === 4,
    );
    expect(handled.sort()).toEqual(['first', 'fourth', 'poison', 'third']);
    expect(await stack.bus.deadLetters({ queue })).toEqual([]);
    expect(await stack.bus.replayDeadLetters([dead[0]!.id])).toBe(0); // already replayed: nothing left to send
  });
});

describe('a consumer that dies mid-batch', () => {
  const publish = (changed: string[]) =>
    stack.handle.db.transaction(async (tx) => {
      for (const c of changed) await stack.bus.publish(tx, 'user.updated', { userId: ada.id, changed: [c] });
    });
  const consumeUpdates = (
    queue: string,
    options: Pick<ConsumerOptions<'user.updated'>, 'handler' | 'effect' | 'leaseSeconds'>,
  ) => stack.bus.consume({ queue, events: ['user.updated'], db: stack.handle.db, inboxSchema: 'listings', ...options });

  it('completes each event of a batch as soon as it is handled, not with the batch', async () => {
    const queue = 'test.each';
    const seen: Array<[string, string[]]> = [];
    await consumeUpdates(queue, {
      handler: async (tx, event) => {
        // What a crash now would leave: the states of this batch's other jobs (read on the handler's own connection).
        const states = (
          (await tx.execute(
            sql`select data->'data'->'changed'->>0 as c, state from pgboss.job where name = ${queue} order by created_on, id`,
          )) as unknown as {
            rows: Array<{ c: string; state: string }>;
          }
        ).rows;
        seen.push([event.data.changed[0]!, states.filter((r) => r.state === 'completed').map((r) => r.c)]);
      },
    });
    await publish(['one', 'two', 'three']);
    await eventually(
      async () => seen.length,
      (n) => n === 3,
    );
    // Jobs of one transaction come in any order; each finds exactly the ones handled before it completed.
    expect(seen.map(([, completed]) => [...completed].sort())).toEqual(
      seen.map((_, i) =>
        seen
          .slice(0, i)
          .map(([c]) => c)
          .sort(),
      ),
    );
    expect(seen.map(([c]) => c).sort()).toEqual(['one', 'three', 'two']);
  });

  it('redelivers the events a dead consumer held within seconds (its lease ran out), each handled once', async () => {
    const queue = 'test.orphans';
    await stack.bus.subscribe(queue, ['user.updated'], {
      name: queue,
      retryLimit: 3,
      retryDelay: 1,
      expireInSeconds: 2,
    });
    await publish(['a', 'b', 'c']);
    // A consumer took the whole batch and was killed before it finished any: no completion, no heartbeat.
    const taken = await stack.bus.boss.fetch(queue, { batchSize: 10 });
    expect(taken).toHaveLength(3);
    const started = Date.now();
    const handled: string[] = [];
    await consumeUpdates(queue, {
      leaseSeconds: 2,
      handler: async (_tx, event) => void handled.push(event.data.changed[0]!),
    });
    await eventually(
      async () => handled.length,
      (n) => n === 3,
      20_000,
    );
    const elapsedMs = Date.now() - started;
    expect(handled.sort()).toEqual(['a', 'b', 'c']);
    expect(elapsedMs).toBeGreaterThanOrEqual(1000); // they were held, then expired: not taken from a free queue
    expect(elapsedMs).toBeLessThan(12_000); // lease 2 s, maintenance every 1 s, retry after 1 s
    await settledQueue(queue);
    expect(handled).toHaveLength(3);
  });

  it('keeps an event alive with its heartbeat while it is handled past its lease, so it is not handled twice', async () => {
    const queue = 'test.slow';
    const handled: string[] = [];
    await consumeUpdates(queue, {
      leaseSeconds: 2,
      effect: async (event) => {
        handled.push(event.data.changed[0]!);
        await new Promise((r) => setTimeout(r, 4500)); // two leases and more
      },
    });
    await publish(['slow']);
    await eventually(
      async () => handled.length,
      (n) => n === 1,
    );
    await settledQueue(queue, 20_000);
    expect(handled).toEqual(['slow']);
    const states = await rows<{ state: string; retry_count: number }>(
      sql`select state, retry_count from pgboss.job where name = ${queue}`,
    );
    expect(states).toEqual([{ state: 'completed', retry_count: 0 }]);
  });
});

/** Waits until `queue` has no job waiting, retrying or in hand. */
async function settledQueue(queue: string, timeoutMs = 15_000): Promise<void> {
  await eventually(
    () =>
      rows<{ n: number | string }>(
        sql`select count(*)::int as n from pgboss.job where name = ${queue} and state in ('created', 'retry', 'active')`,
      ),
    (r) => Number(r[0]!.n) === 0,
    timeoutMs,
  );
}
