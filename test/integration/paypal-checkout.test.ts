import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import {
  CancelPayPalCheckoutDocument,
  CapturePayPalCheckoutDocument,
  ChargeListingDocument,
  CrmContactDocument,
  ListingPaymentDocument,
  MyPaymentsDocument,
  RefundPaymentDocument,
  StartPayPalCheckoutDocument,
} from '../generated/graphql';
import { payments as paymentsTable } from '../../subgraphs/payments/db/schema';
import { browserIt, launchChromium } from '../helpers/browser';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf, errorOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;
let bob: TestUser;
let admin: TestUser;

const PIPELINE_MS = 30_000;
const key = () => `paypal-${randomUUID()}`;
const start = (user: TestUser, listingId: string, idempotencyKey = key()) =>
  stack.graph(StartPayPalCheckoutDocument, { input: { listingId, idempotencyKey } }, { token: user.token });
const capture = (user: TestUser, input: { paymentId?: string; listingId?: string }) =>
  stack.graph(CapturePayPalCheckoutDocument, { input }, { token: user.token });
const listingOf = (user: TestUser, id: string) => async () =>
  dataOf(await stack.graph(ListingPaymentDocument, { id }, { token: user.token })).listing;
const emulatorUrl = () => stack.urls.emulators.paypal!; // …/__emulator
const webhookUrl = () => stack.urls.gateway.replace(/\/graphql$/, '/webhooks/paypal');
/** What the payer's click does, through the emulator's admin route (no browser needed). */
async function approve(orderId: string): Promise<void> {
  const res = await fetch(`${emulatorUrl()}/orders/${orderId}/approve`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{}',
  });
  expect(res.status).toBe(200);
}
const capturesOf = (orderId: string) =>
  stack
    .paypal!.state()
    .captures.filter(
      (c) =>
        (c as { supplementary_data?: { related_ids?: { order_id?: string } } }).supplementary_data?.related_ids
          ?.order_id === orderId,
    );
const rowsOf = (listingId: string) =>
  stack.handle.db.select().from(paymentsTable).where(eq(paymentsTable.listingId, listingId));
const succeededOf = async (listingId: string) =>
  (
    await stack.handle.db
      .select()
      .from(paymentsTable)
      .where(and(eq(paymentsTable.listingId, listingId), eq(paymentsTable.status, 'SUCCEEDED')))
  ).length;

async function checkout(user: TestUser) {
  const listing = await createListing(stack, user);
  const started = dataOf(await start(user, listing.id)).startPayPalCheckout;
  return {
    listing,
    payment: started.payment,
    approvalUrl: started.approvalUrl!,
    orderId: started.payment.providerReference!,
  };
}

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    PROVIDER_RETRY_DELAY_MS: '10',
    PROVIDER_BREAKER_THRESHOLD: '50',
    PAYPAL_TIMEOUT_MS: '2000',
    PAYMENTS_RECONCILE_INTERVAL_MS: '3600000',
    CRM_FLUSH_INTERVAL_MS: '100',
  });
  ada = await registerUser(stack, 'Ada Lovelace');
  bob = await registerUser(stack, 'Bob');
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());
beforeEach(() => {
  // The seller's own return is what most tests drive; the webhook tests switch delivery on.
  stack.paypal!.setWebhookUrl(undefined);
  stack.paypal!.clearFaults();
});

describe('PayPal checkout through the gateway', () => {
  it('prices the order on the server, and after approval and capture the listing is ACTIVE with receipt and CRM totals', async () => {
    const carol = await registerUser(stack, 'Carol Checkout');
    const { listing, payment, approvalUrl, orderId } = await checkout(carol);
    expect(listing.status).toBe('PENDING_PAYMENT');
    expect(payment).toMatchObject({
      status: 'REQUIRES_ACTION',
      provider: 'PAYPAL',
      amount: { amount: 1000, currency: 'USD' },
    });
    expect(approvalUrl).toBe(`${emulatorUrl().replace(/\/__emulator$/, '')}/checkoutnow?token=${orderId}`);
    const order = stack.paypal!.state().orders.find((o) => o.id === orderId)!;
    expect(order).toMatchObject({
      status: 'PAYER_ACTION_REQUIRED',
      purchase_units: [
        { custom_id: payment.id, reference_id: listing.id, amount: { currency_code: 'USD', value: '10.00' } },
      ],
    });
    expect(order.emulator.returnUrl).toBe(
      `${stack.urls.gateway.replace(/\/graphql$/, '')}/paypal/return?payment=${payment.id}&listing=${listing.id}`,
    );
    // PayPal-Request-Id derives from our payment id.
    const creates = stack
      .paypal!.state()
      .requests.filter((r) => r.method === 'POST' && r.path === '/v2/checkout/orders');
    expect(creates.map((r) => r.requestId)).toEqual([`saypro-order-${payment.id}`]);

    await approve(orderId);
    const captured = dataOf(await capture(carol, { paymentId: payment.id })).capturePayPalCheckout;
    expect(captured).toMatchObject({
      id: payment.id,
      status: 'SUCCEEDED',
      provider: 'PAYPAL',
      providerReference: orderId,
      listing: { id: listing.id, status: 'ACTIVE' },
    });
    expect(captured.succeededAt).not.toBeNull();
    expect(await listingOf(carol, listing.id)()).toMatchObject({
      status: 'ACTIVE',
      paymentStatus: 'SUCCEEDED',
      payment: { id: payment.id, status: 'SUCCEEDED' },
    });

    const rest = await fetch(
      `${stack.urls.gateway.replace(/\/graphql$/, '')}/payments/transaction-status?transaction_id=${payment.id}`,
      { headers: { authorization: `Bearer ${carol.token}` } },
    );
    expect(await rest.json()).toMatchObject({
      transaction_id: payment.id,
      payment_status: 'completed',
      provider: 'paypal',
      amount: 1000,
      currency: 'USD',
      listing_status: 'ACTIVE',
    });
    const mine = dataOf(await stack.graph(MyPaymentsDocument, { first: 10 }, { token: carol.token })).viewer!;
    expect(mine.payments!.edges.map((e) => e.node.id)).toEqual([payment.id]);
    expect(mine.totalSpent).toEqual([{ amount: 1000, currency: 'USD' }]);

    const receipt = await eventually(
      async () =>
        stack
          .sendgrid!.messages()
          .filter((m) => m.to.some((t) => t.email === carol.email) && m.subject.startsWith('Your SayPro receipt')),
      (m) => m.length > 0,
      PIPELINE_MS,
    );
    expect(receipt).toHaveLength(1);
    expect(receipt[0]!.subject).toBe('Your SayPro receipt: $10.00');
    // Until the first sync the contact may not exist yet (an error): keep reading.
    const contact = await eventually(
      async () =>
        (await stack.graph(CrmContactDocument, { userId: carol.id }, { token: carol.token })).data?.crmContact ?? null,
      // Other changes of the user (the receipt, the confirmation) may still be on their way: wait for all.
      (c) => c?.syncStatus === 'SYNCED' && c.properties?.find((p) => p.name === 'saypro_total_spent')?.value === '1000',
      PIPELINE_MS,
    );
    expect(contact!.syncStatus).toBe('SYNCED');
  });

  browserIt('lets a person approve on the approval page in Chromium, which sends them back to SayPro', async () => {
    const { listing, payment, approvalUrl, orderId } = await checkout(ada);
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(approvalUrl);
      await page.click('#approve');
      await page.waitForURL(/\/paypal\/return\?/);
      const back = new URL(page.url());
      expect(back.pathname).toBe('/paypal/return');
      expect(Object.fromEntries(back.searchParams)).toMatchObject({
        payment: payment.id,
        listing: listing.id,
        token: orderId,
      });
      // In development the gateway stands in for the frontend's return page: it says what happened and opens the capture.
      expect(await page.textContent('h1')).toBe('PayPal approved the payment');
      expect(await page.textContent('body')).toContain(payment.id);
      const graphiql = new URL((await page.getAttribute('a[href^="/graphiql"]', 'href'))!, page.url());
      expect(graphiql.searchParams.get('query')).toContain(
        `capturePayPalCheckout(input: { paymentId: "${payment.id}" })`,
      );
      if (process.env.SCREENSHOT_DIR)
        await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/paypal-return.png` });
    } finally {
      await browser.close();
    }
    const captured = dataOf(await capture(ada, { listingId: listing.id })).capturePayPalCheckout;
    expect(captured).toMatchObject({ id: payment.id, status: 'SUCCEEDED', listing: { status: 'ACTIVE' } });
  });

  it('refuses to capture before approval (CONFLICT), captures once however often it is called, and hides others’ checkouts', async () => {
    const { listing, payment, orderId } = await checkout(ada);
    expect(errorOf(await capture(ada, { paymentId: payment.id })).extensions.code).toBe('CONFLICT');
    expect(errorOf(await capture(bob, { paymentId: payment.id })).extensions.code).toBe('NOT_FOUND');
    expect(errorOf(await capture(ada, { paymentId: payment.id, listingId: listing.id })).extensions.code).toBe(
      'BAD_USER_INPUT',
    );
    await approve(orderId);
    const both = await Promise.all([capture(ada, { paymentId: payment.id }), capture(ada, { listingId: listing.id })]);
    expect(both.map((r) => dataOf(r).capturePayPalCheckout.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    const again = dataOf(await capture(ada, { paymentId: payment.id })).capturePayPalCheckout;
    expect(again).toMatchObject({ id: payment.id, status: 'SUCCEEDED' });
    expect(capturesOf(orderId)).toHaveLength(1);
    expect(await succeededOf(listing.id)).toBe(1);
  });

  it('answers the same order for the same idempotency key, and refuses a second live payment for the listing whichever provider', async () => {
    const listing = await createListing(stack, ada);
    const k = key();
    const first = dataOf(await start(ada, listing.id, k)).startPayPalCheckout;
    const second = dataOf(await start(ada, listing.id, k)).startPayPalCheckout;
    expect(second.payment.id).toBe(first.payment.id);
    expect(second.approvalUrl).toBe(first.approvalUrl);
    expect(
      stack
        .paypal!.state()
        .orders.filter((o) => (o.purchase_units as Array<{ custom_id: string }>)[0]!.custom_id === first.payment.id),
    ).toHaveLength(1);
    // A card charge while the checkout is open, and a second checkout: CONFLICT, nothing charged.
    const card = await stack.graph(
      ChargeListingDocument,
      { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: key() } },
      { token: ada.token },
    );
    expect(errorOf(card).extensions.code).toBe('CONFLICT');
    expect(errorOf(await start(ada, listing.id)).extensions.code).toBe('CONFLICT');
    expect(stack.stripe!.paymentIntents().filter((pi) => pi.metadata?.listing_id === listing.id)).toHaveLength(0);
    expect(errorOf(await start(bob, listing.id)).extensions.code).toMatch(/FORBIDDEN|NOT_FOUND/);
  });

  it('lets exactly one of a card charge and a PayPal checkout racing for one listing succeed', async () => {
    const listing = await createListing(stack, ada);
    const [card, paypal] = await Promise.all([
      stack.graph(
        ChargeListingDocument,
        { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: key() } },
        { token: ada.token },
      ),
      start(ada, listing.id),
    ]);
    const winners = [card, paypal].filter((r) => !r.errors?.length);
    expect(winners).toHaveLength(1);
    expect(errorOf(card.errors?.length ? card : paypal).extensions.code).toBe('CONFLICT');
    if (!paypal.errors?.length) {
      const { payment } = dataOf(paypal).startPayPalCheckout;
      await approve(payment.providerReference!);
      expect(dataOf(await capture(ada, { paymentId: payment.id })).capturePayPalCheckout.status).toBe('SUCCEEDED');
    }
    await eventually(listingOf(ada, listing.id), (l) => l.status === 'ACTIVE', PIPELINE_MS);
    expect(await succeededOf(listing.id)).toBe(1);
  });

  it('frees the listing when the payer never approves and the order expires', async () => {
    const { listing, payment, orderId } = await checkout(ada);
    stack.paypal!.expireOrder(orderId);
    await stack.payments.payments.reconcile(0);
    const [row] = await rowsOf(listing.id);
    expect(row).toMatchObject({ id: payment.id, status: 'DECLINED', declineCode: 'order_expired' });
    expect((await listingOf(ada, listing.id)()).status).toBe('PENDING_PAYMENT');
    // Capturing the expired checkout answers its outcome; nothing was taken.
    expect(dataOf(await capture(ada, { paymentId: payment.id })).capturePayPalCheckout.status).toBe('DECLINED');
    const next = dataOf(await start(ada, listing.id)).startPayPalCheckout;
    expect(next.payment.id).not.toBe(payment.id);
    await approve(next.payment.providerReference!);
    expect(dataOf(await capture(ada, { paymentId: next.payment.id })).capturePayPalCheckout.listing.status).toBe(
      'ACTIVE',
    );
  });

  it('lets the payer cancel on PayPal’s page and pay by card at once (cancelPayPalCheckout frees the listing)', async () => {
    const { listing, payment, orderId } = await checkout(bob);
    const card = (idempotencyKey: string) =>
      stack.graph(
        ChargeListingDocument,
        { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey } },
        { token: bob.token },
      );
    // While the checkout waits for the payer, a card is refused.
    expect(errorOf(await card(key())).extensions).toMatchObject({ code: 'CONFLICT' });
    // The emulator's cancel button sends the payer to the cancel URL.
    const cancelled = await fetch(`${emulatorUrl().replace(/\/__emulator$/, '')}/checkoutnow/cancel`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${orderId}`,
      redirect: 'manual',
    });
    expect(cancelled.status).toBe(303);
    const back = new URL(cancelled.headers.get('location')!);
    expect(back.pathname).toBe('/paypal/cancel');
    // The cancel page (served by the gateway in development) says what the frontend does next.
    expect(await (await fetch(back)).text()).toContain('cancelPayPalCheckout');
    const answer = dataOf(
      await stack.graph(
        CancelPayPalCheckoutDocument,
        { input: { paymentId: back.searchParams.get('payment')! } },
        { token: bob.token },
      ),
    ).cancelPayPalCheckout;
    expect(answer).toMatchObject({
      id: payment.id,
      status: 'DECLINED',
      declineCode: 'cancelled',
      listing: { status: 'PENDING_PAYMENT' },
    });
    expect(
      errorOf(
        await stack.graph(CancelPayPalCheckoutDocument, { input: { paymentId: payment.id } }, { token: ada.token }),
      ).extensions,
    ).toMatchObject({ code: 'NOT_FOUND' });
    expect(dataOf(await card(key())).chargeListing).toMatchObject({ status: 'SUCCEEDED' });
    expect(await listingOf(bob, listing.id)()).toMatchObject({ status: 'ACTIVE', paymentStatus: 'SUCCEEDED' });
    expect(capturesOf(orderId)).toHaveLength(0);
  });

  it('refreshes the access token once when PayPal expires every token mid-run', async () => {
    await checkout(ada); // a token is cached
    const before = stack.paypal!.state().tokens.tokenRequests;
    expect(stack.paypal!.expireTokens()).toBeGreaterThan(0);
    const { payment, orderId } = await checkout(ada);
    await approve(orderId);
    expect(dataOf(await capture(ada, { paymentId: payment.id })).capturePayPalCheckout.status).toBe('SUCCEEDED');
    expect(stack.paypal!.state().tokens.tokenRequests - before).toBe(1);
    const refreshed = stack.logs.filter((l) => l.msg === 'paypal call' && l.tokenRefreshed === true);
    expect(refreshed.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(stack.logs)).not.toContain('emulator-client-secret');
  });

  it('settles from the webhooks alone when the payer approves and never comes back', async () => {
    stack.paypal!.setWebhookUrl(webhookUrl());
    const { listing, payment, orderId } = await checkout(ada);
    await approve(orderId); // CHECKOUT.ORDER.APPROVED → we capture → PAYMENT.CAPTURE.COMPLETED
    const live = await eventually(listingOf(ada, listing.id), (l) => l.status === 'ACTIVE', PIPELINE_MS);
    expect(live).toMatchObject({ paymentStatus: 'SUCCEEDED', payment: { id: payment.id } });
    await stack.paypal!.flushWebhooks();
    expect(capturesOf(orderId)).toHaveLength(1);
    const outcomes = stack.logs.filter((l) => l.msg === 'paypal webhook').map((l) => l.outcome);
    expect(outcomes).toContain('processed');
  });

  it('refuses a webhook PayPal does not verify, and ignores a duplicate delivery', async () => {
    const forged = await fetch(webhookUrl(), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'paypal-transmission-id': randomUUID(),
        'paypal-transmission-time': new Date().toISOString(),
        'paypal-transmission-sig': 'Zm9yZ2Vk',
        'paypal-cert-url': `${emulatorUrl().replace(/\/__emulator$/, '')}/v1/notifications/certs/CERT-emulator`,
        'paypal-auth-algo': 'SHA256withRSA',
      },
      body: JSON.stringify({ id: 'WH-FORGED', event_type: 'PAYMENT.CAPTURE.COMPLETED', resource: { id: 'X' } }),
    });
    expect(forged.status).toBe(400);
    stack.paypal!.setWebhookUrl(webhookUrl());
    stack.paypal!.setFaults([{ kind: 'webhook_duplicate', times: 10 }]);
    const { listing, payment, orderId } = await checkout(ada);
    await approve(orderId);
    await eventually(listingOf(ada, listing.id), (l) => l.status === 'ACTIVE', PIPELINE_MS);
    await stack.paypal!.flushWebhooks();
    const handled = stack.logs.filter((l) => l.msg === 'paypal webhook').map((l) => l.outcome);
    expect(handled).toContain('duplicate');
    expect(capturesOf(orderId)).toHaveLength(1);
    expect((await rowsOf(listing.id)).map((r) => [r.id, r.status])).toEqual([[payment.id, 'SUCCEEDED']]);
  });

  it('PayPal down past the retries, at start and at capture: PROVIDER_UNAVAILABLE, nothing taken, and the same key and capture finish once it is back', async () => {
    const listing = await createListing(stack, ada);
    const idempotencyKey = key();
    stack.paypal!.setFaults([{ kind: 'server_error', status: 503, times: 1000, path: '/v2/checkout/orders' }]);
    const down = errorOf(await start(ada, listing.id, idempotencyKey));
    expect(down.extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(JSON.stringify(down)).not.toMatch(/at .*\.js:\d+/); // no stack trace
    const ordersFor = (listingId: string) =>
      stack
        .paypal!.state()
        .orders.filter((o) => (o.purchase_units as Array<{ reference_id?: string }>)[0]?.reference_id === listingId);
    expect(ordersFor(listing.id)).toEqual([]);

    stack.paypal!.clearFaults();
    const started = dataOf(await start(ada, listing.id, idempotencyKey)).startPayPalCheckout;
    expect(started.payment.status).toBe('REQUIRES_ACTION');
    const orderId = started.payment.providerReference!;
    // Every attempt, refused or not, carried the one request id: PayPal made one order.
    const creates = stack
      .paypal!.state()
      .requests.filter((r) => r.path === '/v2/checkout/orders' && r.requestId === `saypro-order-${started.payment.id}`);
    expect(creates.length).toBeGreaterThan(1);
    expect(creates.at(-1)!.status).toBe(201);
    await approve(orderId);

    stack.paypal!.setFaults([{ kind: 'rate_limit', times: 1000, path: `/v2/checkout/orders/${orderId}/capture` }]);
    expect(errorOf(await capture(ada, { paymentId: started.payment.id })).extensions).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
    expect(capturesOf(orderId)).toHaveLength(0);
    expect(await listingOf(ada, listing.id)()).toMatchObject({ status: 'PENDING_PAYMENT' });
    stack.paypal!.clearFaults();
    expect(dataOf(await capture(ada, { paymentId: started.payment.id })).capturePayPalCheckout).toMatchObject({
      status: 'SUCCEEDED',
      listing: { status: 'ACTIVE' },
    });
    expect(capturesOf(orderId)).toHaveLength(1);
    expect((await rowsOf(listing.id)).map((r) => r.status)).toEqual(['SUCCEEDED']);
  });

  it('settles once when the webhooks arrive out of order (the capture’s before the approval’s)', async () => {
    stack.paypal!.setWebhookUrl(webhookUrl());
    // The next two events (CHECKOUT.ORDER.APPROVED, PAYMENT.CAPTURE.COMPLETED) are held, then sent newest first.
    stack.paypal!.setFaults([{ kind: 'webhook_out_of_order', times: 2 }]);
    const { listing, payment, orderId } = await checkout(bob);
    await approve(orderId);
    expect(dataOf(await capture(bob, { paymentId: payment.id })).capturePayPalCheckout.status).toBe('SUCCEEDED');
    await stack.paypal!.flushWebhooks();
    const delivered = stack
      .paypal!.state()
      .deliveries.filter((d) => typeof d.status === 'number' && d.status < 300)
      .map((d) => d.type);
    expect(delivered.indexOf('PAYMENT.CAPTURE.COMPLETED')).toBeLessThan(
      delivered.lastIndexOf('CHECKOUT.ORDER.APPROVED'),
    );
    expect(capturesOf(orderId)).toHaveLength(1);
    expect((await rowsOf(listing.id)).map((r) => [r.id, r.status])).toEqual([[payment.id, 'SUCCEEDED']]);
  });

  it('captures once when PayPal captured but its answer was lost', async () => {
    const { listing, payment, orderId } = await checkout(ada);
    await approve(orderId);
    stack.paypal!.setFaults([{ kind: 'drop_after_capture', times: 1 }]);
    const captured = dataOf(await capture(ada, { paymentId: payment.id })).capturePayPalCheckout;
    expect(captured).toMatchObject({ status: 'SUCCEEDED', listing: { status: 'ACTIVE' } });
    const attempts = stack.paypal!.state().requests.filter((r) => r.path === `/v2/checkout/orders/${orderId}/capture`);
    expect(attempts.map((r) => r.status)).toEqual(['dropped', 201]);
    expect(attempts.every((r) => r.requestId === attempts[0]!.requestId)).toBe(true);
    expect(capturesOf(orderId)).toHaveLength(1);
    expect(await succeededOf(listing.id)).toBe(1);
  });

  it('refunds a PayPal payment in part and then in full, through the capture refund', async () => {
    const dora = await registerUser(stack, 'Dora Refund');
    const { payment, orderId } = await checkout(dora);
    await approve(orderId);
    dataOf(await capture(dora, { paymentId: payment.id }));
    const part = dataOf(
      await stack.graph(RefundPaymentDocument, { transactionId: payment.id, amount: 300 }, { token: admin.token }),
    ).refundPayment;
    expect(part).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: { amount: 300, currency: 'USD' } });
    const rest = dataOf(
      await stack.graph(RefundPaymentDocument, { transactionId: payment.id }, { token: admin.token }),
    ).refundPayment;
    expect(rest).toMatchObject({ status: 'REFUNDED', amountRefunded: { amount: 1000, currency: 'USD' } });
    const refunds = stack.paypal!.state().refunds as Array<{ amount: { value: string }; status: string }>;
    const [captureId] = capturesOf(orderId).map((c) => (c as { id: string }).id);
    expect(
      refunds.filter((r) => JSON.stringify(r).includes(captureId!)).map((r) => [r.amount.value, r.status]),
    ).toEqual([
      ['3.00', 'COMPLETED'],
      ['7.00', 'COMPLETED'],
    ]);
    expect(
      errorOf(await stack.graph(RefundPaymentDocument, { transactionId: payment.id }, { token: admin.token }))
        .extensions.code,
    ).toBe('CONFLICT');
    const mine = dataOf(await stack.graph(MyPaymentsDocument, { first: 10 }, { token: dora.token })).viewer!;
    expect(mine.totalSpent).toEqual([{ amount: 0, currency: 'USD' }]);
  });
});
