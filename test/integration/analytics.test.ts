import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import {
  AnalyticsBacklogDocument,
  ChargeListingDocument,
  ListingPaymentDocument,
  RefundPaymentDocument,
  SetAnalyticsConsentDocument,
  UserAnalyticsConsentDocument,
} from '../generated/graphql';
import { ANALYTICS_EVENTS_QUEUE } from '../../subgraphs/analytics/events/domain-events.consumer';
import type { ReceivedEvent } from '../../emulators/ga4/server';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { settled } from '../helpers/settled';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * Through the gateway, on the GA4 emulator: a user who consents registers, publishes a listing by
 * paying its fee (Stripe emulator) and is refunded, and GA4 receives sign_up, listing_published,
 * purchase and refund once each, even when an event is delivered twice and GA4 is down for a while;
 * a user who never consents produces no GA4 event at all.
 */
let stack: TestStack;
let admin: TestUser;

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    ANALYTICS_SEND_INTERVAL_MS: '50',
    ANALYTICS_RETRY_BASE_DELAY_MS: '50',
    ANALYTICS_RETRY_MAX_DELAY_MS: '200',
    PROVIDER_RETRY_DELAY_MS: '5',
    PROVIDER_BREAKER_THRESHOLD: '100',
    CRM_FLUSH_INTERVAL_MS: '3600000',
  });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());
afterEach(() => stack.ga4!.clearFaults());

const eventsOf = (user: TestUser): ReceivedEvent[] => {
  const clientId = stack.analytics.analytics.clientIdOf(user.id);
  return stack.ga4!.state().received.filter((e) => e.clientId === clientId);
};
const consent = (user: TestUser, granted: boolean, token = user.token) =>
  stack.graph(SetAnalyticsConsentDocument, { userId: user.id, granted }, { token });
const backlog = async () =>
  dataOf(await stack.graph(AnalyticsBacklogDocument, { recent: 50 }, { token: admin.token })).analyticsBacklog;

/** Registers, publishes a paid listing, pays its fee and has it refunded; returns the payment id. */
async function journey(user: TestUser): Promise<{ listingId: string; paymentId: string }> {
  const listing = await createListing(stack, user); // VEHICLES: 1000 USD fee
  const { transactionId } = dataOf(
    await stack.graph(
      ChargeListingDocument,
      { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `t-${randomUUID()}` } },
      { token: user.token },
    ),
  ).chargeListing;
  // payments' event activates it in listings (listing.status_changed to ACTIVE: the publish).
  const live = await eventually(
    async () => dataOf(await stack.graph(ListingPaymentDocument, { id: listing.id }, { token: user.token })).listing,
    (l) => l.status === 'ACTIVE',
  );
  expect(live.status).toBe('ACTIVE');
  dataOf(await stack.graph(RefundPaymentDocument, { transactionId }, { token: admin.token }));
  return { listingId: listing.id, paymentId: transactionId };
}

describe('analytics: domain events reach GA4 once each, only with consent', () => {
  it('sends sign_up, listing_published, purchase and refund of a consenting user, once each, with the right value', async () => {
    const ada = await registerUser(stack, 'Ada');
    const granted = dataOf(await consent(ada, true)).setAnalyticsConsent;
    expect(granted).toMatchObject({ userId: ada.id, granted: true, decidedAt: expect.any(String) });
    const { listingId, paymentId } = await journey(ada);

    const names = ['sign_up', 'listing_published', 'purchase', 'refund'];
    const arrived = await eventually(
      async () => eventsOf(ada),
      (events) => names.every((n) => events.some((e) => e.name === n)),
    );
    expect(new Set(arrived.map((e) => e.name))).toEqual(new Set(names));
    // Delivered again (a consumer crash after the effect, a replayed dead letter): still counted once.
    const purchaseEvent = await eventually(
      async () =>
        (
          (await stack.handle.db.execute(
            sql`select data from pgboss.job where name = ${ANALYTICS_EVENTS_QUEUE} and state = 'completed'
                and data->>'name' = 'payment.succeeded' and data->'data'->>'paymentId' = ${paymentId}`,
          )) as unknown as { rows: Array<{ data: unknown }> }
        ).rows,
      (rows) => rows.length === 1,
    );
    const envelope = purchaseEvent[0]!.data;
    await stack.bus.boss.send(
      ANALYTICS_EVENTS_QUEUE,
      (typeof envelope === 'string' ? JSON.parse(envelope) : envelope) as object,
    );
    await settled(stack);
    expect((await eventually(backlog, (b) => b.queued === 0)).queued).toBe(0);

    const final = eventsOf(ada);
    expect(final.map((e) => e.name).sort()).toEqual([...names].sort());
    const byName = Object.fromEntries(final.map((e) => [e.name, e]));
    expect(byName.sign_up!.params).toEqual({ method: 'email' });
    expect(byName.listing_published!.params).toEqual({ listing_id: listingId });
    expect(byName.purchase!.params).toEqual({
      transaction_id: paymentId,
      value: 10,
      currency: 'USD',
      items: [expect.objectContaining({ item_id: listingId, price: 10, quantity: 1 })],
    });
    expect(byName.refund!.params).toEqual({ transaction_id: paymentId, value: 10, currency: 'USD' });
    // Pseudonymous: neither our user id nor anything personal reaches GA4.
    const sent = JSON.stringify(final);
    expect(sent).not.toContain(ada.id);
    expect(sent).not.toContain(ada.email);
    expect(sent).not.toContain('Ada');
    expect(final.every((e) => e.userId === e.clientId)).toBe(true);

    const view = await backlog();
    expect(view).toMatchObject({ validation: false, failed: 0 });
    expect(view.recentDeliveries.flatMap((d) => d.eventNames)).toEqual(expect.arrayContaining(names));
  });

  it('sends nothing for a user who never consents (the default is denied), nor for one who declines', async () => {
    const bob = await registerUser(stack, 'Bob');
    const cleo = await registerUser(stack, 'Cleo');
    dataOf(await consent(cleo, false));
    const shown = dataOf(await stack.graph(UserAnalyticsConsentDocument, { id: bob.id }, { token: bob.token })).user;
    expect(shown.analyticsConsent).toEqual({ userId: bob.id, granted: false, decidedAt: null });
    await journey(bob);
    await journey(cleo);
    await settled(stack);
    // Bob's events wait for a decision that does not come (then are dropped); Cleo's were never kept.
    const waiting = await eventually(backlog, (b) => b.queued === 0 && b.held >= 4);
    expect(waiting.held).toBeGreaterThanOrEqual(4);
    expect(eventsOf(bob)).toEqual([]);
    expect(eventsOf(cleo)).toEqual([]);
    // Another user cannot decide for Bob.
    expect(errorOf(await consent(bob, true, cleo.token)).extensions.code).toBe('FORBIDDEN');
  });

  it('loses nothing and sends nothing twice while GA4 is down', async () => {
    stack.ga4!.setFaults([{ kind: 'server_error', status: 503, times: 12 }]);
    const dora = await registerUser(stack, 'Dora');
    dataOf(await consent(dora, true, admin.token)); // an admin may record it for her
    const down = await eventually(backlog, (b) =>
      b.recentDeliveries.some((d) => d.status === 503 && d.eventNames.includes('sign_up')),
    );
    expect(down.recentDeliveries.find((d) => d.status === 503)).toMatchObject({ error: expect.any(String) });
    const events = await eventually(
      async () => eventsOf(dora),
      (e) => e.length > 0,
    );
    await settled(stack);
    expect((await eventually(backlog, (b) => b.queued === 0)).queued).toBe(0);
    expect(eventsOf(dora).map((e) => e.name)).toEqual(['sign_up']);
    expect(events).toHaveLength(1);
  });

  it('refuses consent for a user that does not exist', async () => {
    const r = await stack.graph(
      SetAnalyticsConsentDocument,
      { userId: '00000000-0000-4000-8000-000000000abc', granted: true },
      { token: admin.token },
    );
    expect(errorOf(r).extensions.code).toBe('NOT_FOUND');
  });
});
