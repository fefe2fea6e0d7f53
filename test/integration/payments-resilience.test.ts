import { randomUUID } from 'node:crypto';
import { ChargeListingDocument, RefundPaymentDocument, TransactionDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { dataOf, errorOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;
let admin: TestUser;

const charge = (listingId: string, idempotencyKey = `k-${randomUUID()}`) =>
  stack.graph(
    ChargeListingDocument,
    { input: { listingId, paymentMethodId: 'pm_card_visa', idempotencyKey } },
    { token: ada.token },
  );
const stripeCalls = () =>
  stack.stripe!.requests().filter((r) => r.path.startsWith('/v1/payment_intents') && r.method === 'POST').length;

beforeAll(async () => {
  stack = await startTestStack({
    PROVIDER_RETRIES: '3',
    PROVIDER_RETRY_DELAY_MS: '20',
    PROVIDER_BREAKER_THRESHOLD: '4',
    PROVIDER_BREAKER_COOLDOWN_MS: '1500',
    STRIPE_TIMEOUT_MS: '300',
    PAYMENTS_RECONCILE_INTERVAL_MS: '3600000',
  });
  ada = await registerUser(stack, 'Ada');
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());
afterEach(() => stack.stripe!.clearFaults());

describe('payments under provider faults', () => {
  it('survives Stripe hanging past the client timeout: the retry with the same key gets the one charge', async () => {
    const listing = await createListing(stack, ada);
    stack.stripe!.setFaults([{ kind: 'hang', ms: 600, times: 1, path: '/v1/payment_intents' }]);
    const idempotencyKey = `k-${randomUUID()}`;
    const first = await charge(listing.id, idempotencyKey);
    // The first answer may come before Stripe's (PROVIDER_UNAVAILABLE: outcome unknown, nothing lost)…
    if (first.errors)
      expect(errorOf(first).extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: 'stripe' });
    // The hung request finishes inside the emulator: one PaymentIntent for the listing.
    await eventually(
      async () => stack.stripe!.paymentIntents().filter((pi) => pi.metadata?.listing_id === listing.id).length,
      (n) => n === 1,
    );
    // …and the user's retry with the same key always ends with the one charge.
    const retried = dataOf(await charge(listing.id, idempotencyKey)).chargeListing;
    expect(retried.status).toBe('SUCCEEDED');
    if (first.data) expect(retried.transactionId).toBe(first.data.chargeListing.transactionId);
    expect(stack.stripe!.paymentIntents().filter((pi) => pi.metadata?.listing_id === listing.id)).toHaveLength(1);
  });

  it('opens the circuit after repeated failures: callers get PROVIDER_UNAVAILABLE at once, Stripe is not called, and it recovers', async () => {
    const listings = await Promise.all([1, 2, 3].map(() => createListing(stack, ada)));
    stack.stripe!.setFaults([{ kind: 'server_error', times: 1000 }]);
    const first = await charge(listings[0]!.id);
    expect(errorOf(first).extensions).toMatchObject({ code: 'PROVIDER_UNAVAILABLE', provider: 'stripe' });
    const callsWhenOpen = stripeCalls();
    const fast = await charge(listings[1]!.id);
    expect(errorOf(fast).extensions).toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
      provider: 'stripe',
      retryAfterSeconds: 2,
    });
    expect(stripeCalls()).toBe(callsWhenOpen);
    const ready = (await (await fetch(new URL('/health/ready', stack.urls.subgraphs.payments!))).json()) as {
      status: string;
      checks: Record<string, string>;
      dependencies: Array<{ name: string }>;
    };
    expect(ready).toMatchObject({ status: 'ok', checks: { stripe: 'degraded' } });
    expect(ready.dependencies.find((d) => d.name === 'stripe')).toMatchObject({
      kind: 'provider',
      state: 'degraded',
      detail: 'circuit open: calls fail fast',
    });
    stack.stripe!.clearFaults();
    // Fails fast until the cooldown lets a trial call through; the same key then finishes the charge.
    const key = `k-${randomUUID()}`;
    const recovered = await eventually(
      () => charge(listings[2]!.id, key),
      (r) => r.data?.chargeListing.status === 'SUCCEEDED',
      10_000,
    );
    expect(recovered.errors).toBeUndefined();
  });

  it('keeps refunds right when their webhooks arrive out of order', async () => {
    const listing = await createListing(stack, ada);
    const { transactionId } = dataOf(await charge(listing.id)).chargeListing;
    stack.stripe!.setFaults([{ kind: 'webhook_out_of_order', times: 2 }]);
    dataOf(await stack.graph(RefundPaymentDocument, { transactionId, amount: 300 }, { token: admin.token }));
    dataOf(await stack.graph(RefundPaymentDocument, { transactionId, amount: 700 }, { token: admin.token }));
    await stack.stripe!.flushWebhooks();
    const { transaction } = dataOf(await stack.graph(TransactionDocument, { id: transactionId }, { token: ada.token }));
    expect(transaction).toMatchObject({ status: 'REFUNDED', amountRefunded: { amount: 1000 } });
  });

  it('logs every Stripe call with method, path, status, duration, request id, idempotency key and attempt, and never a secret', async () => {
    const listing = await createListing(stack, ada);
    dataOf(await charge(listing.id));
    const calls = stack.logs.filter((l) => l.msg === 'stripe call' || l.msg === 'stripe call failed');
    expect(calls.length).toBeGreaterThan(0);
    const create = calls.find((l) => l.path === '/v1/payment_intents' && l.msg === 'stripe call')!;
    expect(create).toMatchObject({
      method: 'POST',
      status: 200,
      attempt: expect.any(Number),
      durationMs: expect.any(Number),
    });
    expect(create.stripeRequestId).toMatch(/^req_/);
    expect(create.idempotencyKey).toMatch(/^saypro-payment-/);
    const everything = JSON.stringify(stack.logs);
    for (const secret of [
      stack.config.STRIPE_WEBHOOK_SECRET,
      stack.config.JWT_SECRET,
      stack.config.INTERNAL_SECRET,
      'sk_test_emulator',
      ada.token,
    ]) {
      expect(everything).not.toContain(secret);
    }
    // Card data, not the digits 4242 (which random request ids contain now and then).
    expect(everything).not.toMatch(/4242[ -]?4242[ -]?4242|exp_month|"cvc"/);
  });
});
