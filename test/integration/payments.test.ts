import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import Stripe from 'stripe';
import {
  ChargeListingDocument,
  ListingPaymentDocument,
  ListingsPaymentStatusDocument,
  MyPaymentsDocument,
  RefundPaymentDocument,
  SellersPaymentsDocument,
  WithdrawListingDocument,
  TransactionDocument,
  type ChargeListingInput,
} from '../generated/graphql';
import { createLogger } from '../../lib/logger';
import { payments as paymentsTable } from '../../subgraphs/payments/db/schema';
import { chargeRequestFor } from '../../subgraphs/payments/domain/payments.service';
import { createStripeAdapter } from '../../subgraphs/payments/provider/stripe.adapter';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;
let bob: TestUser;
let admin: TestUser;

const key = () => `test-${randomUUID()}`;
const charge = (user: TestUser, input: Partial<ChargeListingInput> & { listingId: string }) =>
  stack.graph(
    ChargeListingDocument,
    { input: { paymentMethodId: 'pm_card_visa', idempotencyKey: key(), ...input } },
    { token: user.token },
  );

const listingStatus = (user: TestUser, id: string) => async () =>
  dataOf(await stack.graph(ListingPaymentDocument, { id }, { token: user.token })).listing;
const intentsFor = (listingId: string) =>
  stack.stripe!.paymentIntents().filter((pi) => pi.metadata?.listing_id === listingId);

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    PROVIDER_RETRY_DELAY_MS: '10',
    PROVIDER_BREAKER_THRESHOLD: '50',
    STRIPE_TIMEOUT_MS: '1500',
    PAYMENTS_RECONCILE_INTERVAL_MS: '3600000',
    // The CRM flusher reads totals from payments too; keep it quiet so the batching count is this test's own.
    CRM_FLUSH_INTERVAL_MS: '3600000',
  });
  ada = await registerUser(stack, 'Ada');
  bob = await registerUser(stack, 'Bob');
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
  await stack.bus.subscribe(PROBE, ['payment.succeeded', 'payment.failed', 'payment.refunded']);
});

const PROBE = 'test.payment-events';
/** Payment events published for one listing, oldest first. */
async function paymentEvents(
  listingId: string,
): Promise<Array<{ name: string; source: string; data: Record<string, unknown> }>> {
  const result = await stack.handle.db.execute(
    sql`select data from pgboss.job where name = ${PROBE} and data->'data'->>'listingId' = ${listingId} order by created_on, id`,
  );
  return (result as unknown as { rows: Array<{ data: any }> }).rows.map((r) =>
    typeof r.data === 'string' ? JSON.parse(r.data) : r.data,
  );
}
afterAll(() => stack?.stop());
afterEach(() => stack.stripe!.clearFaults());

describe('chargeListing', () => {
  it('charges the posting fee, activates the listing, and shows the transaction on the listing and the user', async () => {
    const listing = await createListing(stack, ada);
    expect(listing.status).toBe('PENDING_PAYMENT');
    const result = dataOf(await charge(ada, { listingId: listing.id, amount: 1000, currency: 'usd' })).chargeListing;
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      amount: 1000,
      currency: 'USD',
      paymentStatus: 'SUCCEEDED',
      declineCode: null,
      clientSecret: null,
    });
    expect(result.transaction.providerReference).toMatch(/^pi_/);
    // The answer is true when it arrives: the listing went live before the charge answered.
    expect(result.listing).toEqual({ id: listing.id, status: 'ACTIVE' });
    // …once: payments' direct call and the payment.succeeded consumer race (the event commits with the
    // payment); whichever comes second finds the listing ACTIVE and changes nothing.
    const outcomes = () =>
      stack.logs
        .filter(
          (l) =>
            (l.msg === 'listing activated by payment' || l.msg === 'listing activated with the charge') &&
            l.listingId === listing.id,
        )
        .map((l) => l.outcome)
        .sort();
    expect(
      await eventually(
        async () => outcomes(),
        (o) => o.length === 2,
      ),
    ).toEqual(['activated', 'already-active']);

    const activated = await listingStatus(ada, listing.id)();
    expect(activated).toMatchObject({
      status: 'ACTIVE',
      paymentStatus: 'SUCCEEDED',
      payment: { id: result.transactionId, status: 'SUCCEEDED' },
    });

    const { transaction } = dataOf(
      await stack.graph(TransactionDocument, { id: result.transactionId }, { token: ada.token }),
    );
    expect(transaction).toMatchObject({
      status: 'SUCCEEDED',
      listing: { id: listing.id, status: 'ACTIVE' },
      payer: { id: ada.id },
    });
    const mine = dataOf(await stack.graph(MyPaymentsDocument, { first: 10 }, { token: ada.token })).viewer!;
    expect(mine.payments!.edges.map((e) => e.node.id)).toContain(result.transactionId);
    expect(mine.totalSpent).toEqual([{ amount: 1000, currency: 'USD' }]);

    const [intent] = intentsFor(listing.id);
    expect(intentsFor(listing.id)).toHaveLength(1);
    expect(intent).toMatchObject({
      amount: 1000,
      currency: 'usd',
      status: 'succeeded',
      metadata: { payment_id: result.transactionId, user_id: ada.id },
    });
  });

  it('keeps payments private: others get NOT_FOUND for the transaction and null payment fields', async () => {
    const listing = await createListing(stack, ada);
    const { transactionId } = dataOf(await charge(ada, { listingId: listing.id })).chargeListing;
    expect(
      errorOf(await stack.graph(TransactionDocument, { id: transactionId }, { token: bob.token })).extensions.code,
    ).toBe('NOT_FOUND');
    await eventually(listingStatus(ada, listing.id), (l) => l.status === 'ACTIVE');
    const asBob = await listingStatus(bob, listing.id)();
    expect(asBob).toMatchObject({ paymentStatus: null, payment: null });
    expect(
      dataOf(await stack.graph(TransactionDocument, { id: transactionId }, { token: admin.token })).transaction.id,
    ).toBe(transactionId);
  });

  it('reports a decline with its reason, leaves the listing waiting, and lets another card pay', async () => {
    const listing = await createListing(stack, ada);
    const declined = dataOf(
      await charge(ada, { listingId: listing.id, paymentMethodId: 'pm_card_visa_chargeDeclinedInsufficientFunds' }),
    ).chargeListing;
    expect(declined).toMatchObject({
      status: 'DECLINED',
      paymentStatus: 'DECLINED',
      declineCode: 'insufficient_funds',
    });
    expect(declined.declineMessage).toMatch(/insufficient funds/i);
    expect((await listingStatus(ada, listing.id)()).status).toBe('PENDING_PAYMENT');
    const paid = dataOf(await charge(ada, { listingId: listing.id })).chargeListing;
    expect(paid.status).toBe('SUCCEEDED');
    await eventually(listingStatus(ada, listing.id), (l) => l.status === 'ACTIVE');
    const events = await paymentEvents(listing.id);
    expect(events.map((e) => [e.name, e.source, e.data.paymentId])).toEqual([
      ['payment.failed', 'payments', declined.transactionId],
      ['payment.succeeded', 'payments', paid.transactionId],
    ]);
    expect(events[0]!.data).toMatchObject({ code: 'insufficient_funds', userId: ada.id });
    expect(events[1]!.data).toMatchObject({
      amount: 1000,
      currency: 'USD',
      providerReference: paid.transaction.providerReference,
    });
  });

  it('asks for authentication, then finishes through the webhook when the customer completes it', async () => {
    const listing = await createListing(stack, ada);
    const pending = dataOf(
      await charge(ada, { listingId: listing.id, paymentMethodId: 'pm_card_authenticationRequired' }),
    ).chargeListing;
    expect(pending).toMatchObject({ status: 'REQUIRES_ACTION', paymentStatus: 'REQUIRES_ACTION' });
    expect(pending.clientSecret).toMatch(/^pi_.+_secret_/);
    stack.stripe!.completeAction(pending.transaction.providerReference!);
    await stack.stripe!.flushWebhooks();
    const active = await eventually(listingStatus(ada, listing.id), (l) => l.status === 'ACTIVE');
    expect(active.paymentStatus).toBe('SUCCEEDED');
  });

  it('refuses bad requests with typed errors and charges nothing', async () => {
    const listing = await createListing(stack, ada);
    const free = await createListing(stack, ada, { category: 'JOBS' });
    const before = stack.stripe!.paymentIntents().length;
    const cases: Array<[Promise<Awaited<ReturnType<typeof charge>>>, string, string?]> = [
      [charge(ada, { listingId: listing.id, amount: 1 }), 'BAD_USER_INPUT', 'amount'],
      [charge(ada, { listingId: listing.id, currency: 'EUR' }), 'BAD_USER_INPUT', 'currency'],
      [charge(ada, { listingId: listing.id, paymentMethodId: 'card 4242' }), 'BAD_USER_INPUT', 'paymentMethodId'],
      [charge(ada, { listingId: listing.id, idempotencyKey: 'short' }), 'BAD_USER_INPUT', 'idempotencyKey'],
      [charge(ada, { listingId: 'not-a-uuid' }), 'BAD_USER_INPUT', 'listingId'],
      [charge(ada, { listingId: randomUUID() }), 'NOT_FOUND'],
      [charge(bob, { listingId: listing.id }), 'NOT_FOUND'], // Bob cannot even see Ada's unpaid listing
      [charge(ada, { listingId: free.id }), 'CONFLICT'],
      [
        stack.graph(ChargeListingDocument, {
          input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: key() },
        }),
        'FORBIDDEN',
      ],
    ];
    for (const [call, code, field] of cases) {
      const error = errorOf(await call);
      expect(error.extensions.code).toBe(code);
      if (field) expect(error.extensions.field).toBe(field);
    }
    expect(stack.stripe!.paymentIntents().length).toBe(before);
    expect((await listingStatus(ada, listing.id)()).status).toBe('PENDING_PAYMENT');
  });

  it('answers a retried request (same idempotency key) with the same result and one charge', async () => {
    const listing = await createListing(stack, ada);
    const idempotencyKey = key();
    const first = dataOf(await charge(ada, { listingId: listing.id, idempotencyKey })).chargeListing;
    const again = dataOf(await charge(ada, { listingId: listing.id, idempotencyKey })).chargeListing;
    expect(again.transactionId).toBe(first.transactionId);
    expect(again.status).toBe('SUCCEEDED');
    expect(intentsFor(listing.id)).toHaveLength(1);
    const other = await createListing(stack, ada);
    expect(errorOf(await charge(ada, { listingId: other.id, idempotencyKey })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'idempotencyKey',
    });
  });

  it('charges a listing once when 20 requests race for it', async () => {
    const listing = await createListing(stack, ada);
    const results = await Promise.all(Array.from({ length: 20 }, () => charge(ada, { listingId: listing.id })));
    const succeeded = results.filter((r) => r.data?.chargeListing.status === 'SUCCEEDED');
    const conflicts = results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT');
    expect(succeeded).toHaveLength(1);
    expect(conflicts).toHaveLength(19);
    expect(intentsFor(listing.id)).toHaveLength(1);
    const rows = (await stack.handle.db.select().from(paymentsTable)).filter((p) => p.listingId === listing.id);
    expect(rows.map((r) => r.status)).toEqual(['SUCCEEDED']);
  });
});

describe('provider failures', () => {
  it('retries 5xx, 429 and a dropped connection with the same key: exactly one charge', async () => {
    for (const faults of [
      [{ kind: 'server_error' as const, times: 2 }],
      [{ kind: 'rate_limit' as const, times: 2 }],
      [{ kind: 'drop_after_charge' as const, times: 1 }],
    ]) {
      const listing = await createListing(stack, ada);
      stack.stripe!.setFaults(faults);
      const result = dataOf(await charge(ada, { listingId: listing.id })).chargeListing;
      expect(result.status).toBe('SUCCEEDED');
      expect(intentsFor(listing.id)).toHaveLength(1);
      const keys = new Set(
        stack
          .stripe!.requests()
          .filter((r) => r.path === '/v1/payment_intents' && r.idempotencyKey?.includes(result.transactionId))
          .map((r) => r.idempotencyKey),
      );
      expect(keys.size).toBe(1);
    }
  });

  it('surfaces an outage as PROVIDER_UNAVAILABLE with a retry hint, then finishes the same charge on retry', async () => {
    const listing = await createListing(stack, ada);
    const idempotencyKey = key();
    stack.stripe!.setFaults([{ kind: 'server_error', times: 100 }]);
    const failed = await charge(ada, { listingId: listing.id, idempotencyKey });
    expect(errorOf(failed).extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: 'stripe' });
    expect(errorOf(failed).extensions.retryAfterSeconds).toBeGreaterThan(0);
    expect(intentsFor(listing.id)).toHaveLength(0);
    stack.stripe!.clearFaults();
    const retried = dataOf(await charge(ada, { listingId: listing.id, idempotencyKey })).chargeListing;
    expect(retried.status).toBe('SUCCEEDED');
    expect(intentsFor(listing.id)).toHaveLength(1);
  });
});

describe('webhooks and recovery', () => {
  const webhookUrl = () => new URL('/webhooks/stripe', stack.urls.gateway).toString();
  const stripeSdk = () => new Stripe('sk_test_emulator', { telemetry: false });

  it('refuses a forged or stale signature with 400 and stores nothing', async () => {
    const payload = JSON.stringify({
      id: 'evt_forged',
      object: 'event',
      type: 'payment_intent.succeeded',
      data: { object: { id: 'pi_x', object: 'payment_intent' } },
    });
    const forged = stripeSdk().webhooks.generateTestHeaderString({ payload, secret: 'whsec_wrong' });
    const stale = stripeSdk().webhooks.generateTestHeaderString({
      payload,
      secret: stack.config.STRIPE_WEBHOOK_SECRET,
      timestamp: Math.floor(Date.now() / 1000) - 3600,
    });
    for (const signature of [forged, stale, 'garbage']) {
      const res = await fetch(webhookUrl(), {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'stripe-signature': signature },
        body: payload,
      });
      expect(res.status).toBe(400);
    }
    const rows = await stack.handle.db.execute(
      `select count(*)::int as n from payments.webhook_events where id = 'evt_forged'` as never,
    );
    expect(Number((rows as unknown as { rows: Array<{ n: number }> }).rows[0]!.n)).toBe(0);
  });

  it('activates the listing when the process died after Stripe charged: through the webhook, or through reconciliation', async () => {
    for (const via of ['webhook', 'reconciliation'] as const) {
      const listing = await createListing(stack, ada);
      // What a crash leaves behind: our PENDING row, and Stripe's charge made with its key, no commit in between.
      const id = randomUUID();
      const now = new Date(Date.now() - 60_000);
      const [row] = await stack.handle.db
        .insert(paymentsTable)
        .values({
          id,
          listingId: listing.id,
          userId: ada.id,
          amount: 1000,
          currency: 'USD',
          paymentMethodId: 'pm_card_visa',
          status: 'PENDING',
          clientIdempotencyKey: key(),
          providerIdempotencyKey: `saypro-payment-${id}`,
          createdAt: now,
          updatedAt: now,
        })
        .returning();
      if (via === 'reconciliation') stack.stripe!.setWebhookUrl(undefined);
      const adapter = createStripeAdapter({
        secretKey: 'sk_test_emulator',
        webhookSecret: stack.config.STRIPE_WEBHOOK_SECRET,
        apiUrl: new URL(stack.urls.emulators.stripe!).origin,
        logger: createLogger({ level: 'silent' }),
      });
      expect((await adapter.charge(chargeRequestFor(row!), 1)).kind).toBe('succeeded');
      if (via === 'webhook') await stack.stripe!.flushWebhooks();
      else expect(await stack.payments.payments.reconcile(0)).toBeGreaterThanOrEqual(1);
      stack.stripe!.setWebhookUrl(new URL('/webhooks/stripe', stack.urls.subgraphs.payments!).toString());
      const active = await eventually(listingStatus(ada, listing.id), (l) => l.status === 'ACTIVE');
      expect(active).toMatchObject({ status: 'ACTIVE', paymentStatus: 'SUCCEEDED', payment: { id } });
      expect(intentsFor(listing.id)).toHaveLength(1);
    }
  });

  it('processes a webhook delivered twice or out of order once, by reading the payment itself', async () => {
    const listing = await createListing(stack, ada);
    stack.stripe!.setFaults([{ kind: 'webhook_duplicate', times: 5 }]);
    const pending = dataOf(
      await charge(ada, { listingId: listing.id, paymentMethodId: 'pm_card_threeDSecure2Required' }),
    ).chargeListing;
    stack.stripe!.completeAction(pending.transaction.providerReference!);
    await stack.stripe!.flushWebhooks();
    await eventually(listingStatus(ada, listing.id), (l) => l.status === 'ACTIVE');
    const succeededEvents = await stack.handle.db.execute(
      `select count(*)::int as n from pgboss.job where name = 'listings.payment-succeeded' and data->'data'->>'listingId' = '${listing.id}'` as never,
    );
    expect(Number((succeededEvents as unknown as { rows: Array<{ n: number }> }).rows[0]!.n)).toBe(1);
  });
});

describe('refunds', () => {
  it('lets admins refund part and then the rest, reflected on the listing and the user', async () => {
    const payer = await registerUser(stack, 'Payer');
    const listing = await createListing(stack, payer);
    const { transactionId } = dataOf(await charge(payer, { listingId: listing.id })).chargeListing;
    expect(
      errorOf(await stack.graph(RefundPaymentDocument, { transactionId, amount: 100 }, { token: payer.token }))
        .extensions.code,
    ).toBe('FORBIDDEN');
    const partial = dataOf(
      await stack.graph(RefundPaymentDocument, { transactionId, amount: 400 }, { token: admin.token }),
    ).refundPayment;
    expect(partial).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: { amount: 400 } });
    expect(
      errorOf(await stack.graph(RefundPaymentDocument, { transactionId, amount: 601 }, { token: admin.token }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'amount' });
    const full = dataOf(
      await stack.graph(RefundPaymentDocument, { transactionId }, { token: admin.token }),
    ).refundPayment;
    expect(full).toMatchObject({ status: 'REFUNDED', amountRefunded: { amount: 1000 } });
    expect(
      errorOf(await stack.graph(RefundPaymentDocument, { transactionId }, { token: admin.token })).extensions.code,
    ).toBe('CONFLICT');
    expect((await listingStatus(payer, listing.id)()).paymentStatus).toBe('REFUNDED');
    expect(dataOf(await stack.graph(MyPaymentsDocument, {}, { token: payer.token })).viewer!.totalSpent).toEqual([
      { amount: 0, currency: 'USD' },
    ]);
    expect(
      stack
        .stripe!.refunds()
        .filter((r) => r.payment_intent === full.providerReference)
        .map((r) => r.amount),
    ).toEqual([400, 600]);
  });
});

describe('a listing withdrawn while its charge is in flight', () => {
  it('is not activated, and the payer is refunded in full, once', async () => {
    const listing = await createListing(stack, ada);
    stack.stripe!.setFaults([{ kind: 'hang', ms: 500, times: 1, path: '/v1/payment_intents' }]);
    const charging = charge(ada, { listingId: listing.id });
    // Payments has checked the listing once Stripe holds the charge (the hang fault is used up).
    await eventually(
      async () =>
        ((await (await fetch(`${stack.urls.emulators.stripe}/state`)).json()) as { faults: unknown[] }).faults.length,
      (n) => n === 0,
    );
    dataOf(await stack.graph(WithdrawListingDocument, { id: listing.id }, { token: ada.token }));
    const paid = dataOf(await charging).chargeListing;
    expect(paid.status).toBe('SUCCEEDED');
    const refunded = await eventually(listingStatus(ada, listing.id), (l) => l.paymentStatus === 'REFUNDED');
    expect(refunded).toMatchObject({ status: 'WITHDRAWN', paymentStatus: 'REFUNDED' });
    const reference = paid.transaction.providerReference!;
    expect(
      stack
        .stripe!.refunds()
        .filter((r) => r.payment_intent === reference)
        .map((r) => r.amount),
    ).toEqual([1000]);
    expect((await paymentEvents(listing.id)).map((e) => e.name)).toEqual(['payment.succeeded', 'payment.refunded']);
    // Asking again (a redelivered event, a crash before the inbox entry) refunds nothing more.
    await stack.payments.payments.autoRefund(paid.transactionId);
    expect(stack.stripe!.refunds().filter((r) => r.payment_intent === reference)).toHaveLength(1);
  });
});

describe('batching', () => {
  it('answers paymentStatus for a page of 50 listings with one payments query', async () => {
    const seller = await registerUser(stack, 'Bulk');
    for (let i = 0; i < 50; i++) await createListing(stack, seller, { title: `Bulk ${i}` });
    stack.queries.length = 0;
    const page = dataOf(
      await stack.graph(
        ListingsPaymentStatusDocument,
        { filter: { sellerId: seller.id }, first: 50 },
        { token: seller.token },
      ),
    );
    expect(page.listings.nodes).toHaveLength(50);
    expect(stack.queries.filter((q) => q.includes('"payments"."payments"'))).toHaveLength(1);
  });

  it("answers every seller's payments on a page with one payments query, each seller getting their own", async () => {
    const sellers = await Promise.all([0, 1, 2, 3].map((i) => registerUser(stack, `Batchpay Seller ${i}`)));
    const paid = new Map<string, string>();
    for (const seller of sellers) {
      const listing = await createListing(stack, seller, { title: `Batchpay ${seller.id.slice(0, 8)}` });
      const result = dataOf(await charge(seller, { listingId: listing.id })).chargeListing;
      expect(result.status).toBe('SUCCEEDED');
      paid.set(seller.id, result.transactionId);
    }
    stack.queries.length = 0;
    const page = dataOf(
      await stack.graph(SellersPaymentsDocument, { filter: { search: 'Batchpay' }, first: 50 }, { token: admin.token }),
    );
    expect(page.listings.nodes).toHaveLength(4);
    for (const node of page.listings.nodes) {
      expect(node.seller!.payments!.edges.map((e) => e.node.id)).toEqual([paid.get(node.seller!.id)]);
      expect(node.seller!.payments!.pageInfo.hasNextPage).toBe(false);
    }
    expect(stack.queries.filter((q) => q.includes('"payments"."payments"'))).toHaveLength(1);
  });
});
