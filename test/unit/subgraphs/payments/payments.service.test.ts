import { randomUUID } from 'node:crypto';
import type { CheckoutGateway } from '../../../../subgraphs/payments/provider/checkout-gateway.port';
import { eq } from 'drizzle-orm';
import type { Viewer } from '../../../../lib/auth';
import type { DatabaseHandle } from '../../../../lib/db';
import { AppError } from '../../../../lib/errors';
import type { ListingFacts, ListingsClient } from '../../../../subgraphs/payments/clients/listings.client';
import { payments } from '../../../../subgraphs/payments/db/schema';
import { PaymentsService } from '../../../../subgraphs/payments/domain/payments.service';
import type {
  ChargeOutcome,
  ChargeRequest,
  PaymentGateway,
  PaymentState,
  RefundOutcome,
  RefundRequest,
} from '../../../../subgraphs/payments/provider/payment-gateway.port';
import { FakeOutage, fastPolicy, recordingBus, silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

/** A card processor in memory: answers from a script, remembers every request and key like Stripe does. */
class FakeGateway implements PaymentGateway {
  charges: Array<{ request: ChargeRequest; attempt: number; statusInDb?: string }> = [];
  refunds: RefundRequest[] = [];
  /** What the next charge calls do, in order; after the script, charges succeed. */
  script: Array<ChargeOutcome | Error> = [];
  private readonly byKey = new Map<string, ChargeOutcome>();
  private readonly refundedByKey = new Map<string, RefundOutcome>();
  state = new Map<string, PaymentState>();
  beforeCharge: (request: ChargeRequest) => Promise<void> = async () => undefined;

  async charge(request: ChargeRequest, attempt: number): Promise<ChargeOutcome> {
    await this.beforeCharge(request);
    this.charges.push({ request, attempt });
    const saved = this.byKey.get(request.idempotencyKey);
    if (saved) return saved;
    const next = this.script.shift() ?? {
      kind: 'succeeded',
      reference: `pi_${randomUUID()}`,
      amount: request.amount,
      currency: request.currency,
    };
    if (next instanceof Error) throw next;
    this.byKey.set(request.idempotencyKey, next);
    return next;
  }
  async retrieve(reference: string): Promise<PaymentState> {
    const known = this.state.get(reference);
    if (!known) throw new Error(`no such payment ${reference}`);
    return known;
  }
  /** Runs while the provider is refunding (before its answer): what a webhook racing the answer does. */
  beforeRefundAnswer: (request: RefundRequest) => Promise<void> = async () => undefined;
  async refund(request: RefundRequest): Promise<RefundOutcome> {
    this.refunds.push(request);
    await this.beforeRefundAnswer(request);
    const saved = this.refundedByKey.get(request.idempotencyKey);
    if (saved) return saved;
    const outcome: RefundOutcome = { reference: `re_${randomUUID()}`, amount: request.amount!, status: 'succeeded' };
    this.refundedByKey.set(request.idempotencyKey, outcome);
    return outcome;
  }
  parseWebhook(): never {
    throw new Error('not used');
  }
  isTransient = (err: unknown) => err instanceof FakeOutage;
  isOutage = (err: unknown) => err instanceof FakeOutage;
  /** Distinct provider keys the service sent. */
  keys = () => [...new Set(this.charges.map((c) => c.request.idempotencyKey))];
}

let handle: DatabaseHandle;
let gateway: FakeGateway;
let bus: ReturnType<typeof recordingBus>;
let service: PaymentsService;
const listings = new Map<string, ListingFacts>();
/** Activations asked of listings, in order; `activationDown` makes listings unreachable for them. */
const activations: Array<{ listingId: string; amount: number; currency: string }> = [];
let activationDown = false;
const listingsClient: ListingsClient = {
  get: async (id) => listings.get(id) ?? null,
  activatePaid: async (listingId, paid) => {
    if (activationDown) throw new Error('listings unavailable');
    activations.push({ listingId, ...paid });
    return 'activated';
  },
};

const seller: Viewer = { userId: randomUUID(), roles: ['user'] };
const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };
const waitingListing = (overrides: Partial<ListingFacts> = {}): ListingFacts => {
  const listing = {
    id: randomUUID(),
    sellerId: seller.userId!,
    status: 'PENDING_PAYMENT',
    category: 'VEHICLES',
    title: 'Bike',
    ...overrides,
  };
  listings.set(listing.id, listing);
  return listing;
};
const input = (listingId: string, extra: Record<string, unknown> = {}) => ({
  listingId,
  paymentMethodId: 'pm_card_visa',
  idempotencyKey: `k-${randomUUID()}`,
  ...extra,
});
const codeOf = (err: unknown) => (err instanceof AppError ? err.code : `not an AppError: ${String(err)}`);
const rowOf = async (id: string) => (await handle.db.select().from(payments).where(eq(payments.id, id)))[0]!;
const eventsFor = (paymentId: string) =>
  bus.published.filter((e) => (e.data as { paymentId?: string }).paymentId === paymentId).map((e) => e.name);

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(() => {
  gateway = new FakeGateway();
  bus = recordingBus();
  service = new PaymentsService({
    db: handle.db,
    bus,
    gateway,
    policy: fastPolicy('stripe'),
    // These tests are about card charges: a PayPal call would be a bug.
    checkout: new Proxy({} as CheckoutGateway, {
      get: (_t, name) => () => Promise.reject(new Error(`unexpected PayPal call ${String(name)}`)),
    }),
    checkoutPolicy: fastPolicy('paypal'),
    publicUrl: () => 'http://127.0.0.1:4000',
    listings: listingsClient,
    config: { POSTING_FEE_AMOUNT: 1000, POSTING_FEE_CURRENCY: 'USD', POSTING_FEES: { JOBS: 0 } },
    logger: silentLogger,
  });
});

describe('PaymentsService.charge: the charge state machine', () => {
  it('records the attempt as PENDING with its provider key before calling the provider, then SUCCEEDED with one event', async () => {
    const listing = waitingListing();
    gateway.beforeCharge = async (request) => {
      const [row] = await handle.db
        .select()
        .from(payments)
        .where(eq(payments.providerIdempotencyKey, request.idempotencyKey));
      expect(row).toMatchObject({ status: 'PENDING', listingId: listing.id, amount: 1000, currency: 'USD' });
    };
    const { payment } = await service.charge(seller, input(listing.id));
    expect(payment).toMatchObject({
      status: 'SUCCEEDED',
      providerReference: expect.stringMatching(/^pi_/),
      attempts: 1,
    });
    expect(gateway.charges).toHaveLength(1);
    expect(gateway.charges[0]!.request).toMatchObject({
      amount: 1000,
      currency: 'USD',
      idempotencyKey: `saypro-payment-${payment.id}`,
    });
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
  });

  it('asks listings to put the listing live before it answers, and still answers SUCCEEDED when listings cannot be reached (the event does it later)', async () => {
    const listing = waitingListing();
    const { payment } = await service.charge(seller, input(listing.id));
    expect(activations.filter((a) => a.listingId === listing.id)).toEqual([
      { listingId: listing.id, amount: 1000, currency: 'USD' },
    ]);
    const declined = waitingListing();
    gateway.script = [
      { kind: 'declined', reference: `pi_${randomUUID()}`, code: 'card_declined', message: 'Your card was declined.' },
    ];
    expect((await service.charge(seller, input(declined.id))).payment.status).toBe('DECLINED');
    expect(activations.some((a) => a.listingId === declined.id)).toBe(false);
    activationDown = true;
    try {
      const other = waitingListing();
      const { payment: paid } = await service.charge(seller, input(other.id));
      expect(paid.status).toBe('SUCCEEDED');
      expect(eventsFor(paid.id)).toEqual(['payment.succeeded']);
    } finally {
      activationDown = false;
    }
    expect(payment.status).toBe('SUCCEEDED');
  });

  it('answers the same client key with the same payment and never calls the provider again', async () => {
    const listing = waitingListing();
    const request = input(listing.id);
    const first = await service.charge(seller, request);
    const again = await service.charge(seller, request);
    expect(again.payment.id).toBe(first.payment.id);
    expect(gateway.charges).toHaveLength(1);
    const misused = await service
      .charge(seller, { ...request, paymentMethodId: 'pm_card_mastercard' })
      .catch((e: unknown) => e);
    expect(codeOf(misused)).toBe('BAD_USER_INPUT');
  });

  it('keeps the payment PENDING through an outage, with one provider key on every attempt, and finishes it on the retry', async () => {
    const listing = waitingListing();
    gateway.script = [new FakeOutage(), new FakeOutage(), new FakeOutage()];
    const request = input(listing.id);
    const err = await service.charge(seller, request).catch((e: unknown) => e);
    expect(codeOf(err)).toBe('PROVIDER_UNAVAILABLE');
    expect(gateway.charges.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const [pending] = await handle.db.select().from(payments).where(eq(payments.listingId, listing.id));
    expect(pending).toMatchObject({ status: 'PENDING', attempts: 3 });
    expect(eventsFor(pending!.id)).toEqual([]);
    const { payment } = await service.charge(seller, request);
    expect(payment).toMatchObject({ id: pending!.id, status: 'SUCCEEDED' });
    expect(gateway.keys()).toEqual([`saypro-payment-${pending!.id}`]);
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
  });

  it('declines without holding the listing: another card may pay it', async () => {
    const listing = waitingListing();
    gateway.script = [
      { kind: 'declined', reference: `pi_${randomUUID()}`, code: 'card_declined', message: 'Your card was declined.' },
    ];
    const declined = await service.charge(
      seller,
      input(listing.id, { paymentMethodId: 'pm_card_visa_chargeDeclined' }),
    );
    expect(declined.payment).toMatchObject({ status: 'DECLINED', declineCode: 'card_declined' });
    expect(eventsFor(declined.payment.id)).toEqual(['payment.failed']);
    const paid = await service.charge(seller, input(listing.id));
    expect(paid.payment.status).toBe('SUCCEEDED');
  });

  it('refuses a second live charge for a listing (CONFLICT), a wrong amount (nothing charged), other sellers and listings not waiting', async () => {
    const listing = waitingListing();
    gateway.script = [{ kind: 'processing', reference: `pi_${randomUUID()}` }];
    expect((await service.charge(seller, input(listing.id))).payment.status).toBe('PROCESSING');
    expect(codeOf(await service.charge(seller, input(listing.id)).catch((e: unknown) => e))).toBe('CONFLICT');

    const other = waitingListing();
    expect(codeOf(await service.charge(seller, input(other.id, { amount: 999 })).catch((e: unknown) => e))).toBe(
      'BAD_USER_INPUT',
    );
    expect(codeOf(await service.charge(seller, input(other.id, { currency: 'EUR' })).catch((e: unknown) => e))).toBe(
      'BAD_USER_INPUT',
    );
    expect(
      codeOf(await service.charge({ userId: randomUUID(), roles: ['user'] }, input(other.id)).catch((e: unknown) => e)),
    ).toBe('FORBIDDEN');
    expect(
      codeOf(await service.charge(seller, input(waitingListing({ status: 'ACTIVE' }).id)).catch((e: unknown) => e)),
    ).toBe('CONFLICT');
    expect(
      codeOf(await service.charge(seller, input(waitingListing({ category: 'JOBS' }).id)).catch((e: unknown) => e)),
    ).toBe('CONFLICT');
    expect(codeOf(await service.charge(seller, input(randomUUID())).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect(await handle.db.select().from(payments).where(eq(payments.listingId, other.id))).toEqual([]);
    expect(gateway.charges).toHaveLength(1);
  });

  it('only moves forward: a stale answer after SUCCEEDED changes nothing and publishes nothing', async () => {
    const listing = waitingListing();
    gateway.script = [{ kind: 'requires_action', reference: 'pi_3ds', clientSecret: 'pi_3ds_secret' }];
    const { payment, clientSecret } = await service.charge(seller, input(listing.id));
    expect(payment.status).toBe('REQUIRES_ACTION');
    expect(clientSecret).toBe('pi_3ds_secret');
    await service.settle(payment.id, { status: 'SUCCEEDED', reference: 'pi_3ds' });
    await service.settle(payment.id, { status: 'PROCESSING', reference: 'pi_3ds' });
    await service.settle(payment.id, { status: 'SUCCEEDED', reference: 'pi_3ds' });
    await service.settle(payment.id, { status: 'DECLINED', reference: 'pi_3ds' });
    expect((await rowOf(payment.id)).status).toBe('SUCCEEDED');
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
  });

  it('reconcile resumes an abandoned PENDING attempt with its own provider key', async () => {
    const listing = waitingListing();
    gateway.script = [new FakeOutage(), new FakeOutage(), new FakeOutage()];
    await service.charge(seller, input(listing.id)).catch(() => undefined);
    const [pending] = await handle.db.select().from(payments).where(eq(payments.listingId, listing.id));
    expect(await service.reconcile(60_000)).toBe(0); // too recent: a request may still be working on it
    expect(await service.reconcile(0)).toBeGreaterThanOrEqual(1);
    expect((await rowOf(pending!.id)).status).toBe('SUCCEEDED');
    expect(gateway.keys()).toEqual([`saypro-payment-${pending!.id}`]);
  });
});

describe('PaymentsService refunds', () => {
  const paid = async () => (await service.charge(seller, input(waitingListing().id))).payment;

  it('refunds in parts, then the rest; net amounts and events follow, and nothing past the amount', async () => {
    const payment = await paid();
    const part = await service.refund(admin, payment.id, 300);
    expect(part).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: 300 });
    expect(codeOf(await service.refund(admin, payment.id, 701).catch((e: unknown) => e))).toBe('BAD_USER_INPUT');
    expect(codeOf(await service.refund(admin, payment.id, 0).catch((e: unknown) => e))).toBe('BAD_USER_INPUT');
    const rest = await service.refund(admin, payment.id, undefined);
    expect(rest).toMatchObject({ status: 'REFUNDED', amountRefunded: 1000 });
    expect(gateway.refunds.map((r) => r.amount)).toEqual([300, 700]);
    expect(codeOf(await service.refund(admin, payment.id, undefined).catch((e: unknown) => e))).toBe('CONFLICT');
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded', 'payment.refunded', 'payment.refunded']);
  });

  it('counts a refund once when the provider’s webhook recorded it before the refund’s answer came back', async () => {
    const payment = await paid();
    // charge.refunded arrives first and sets the provider's total (this refund included).
    gateway.beforeRefundAnswer = async (request) => {
      await service.settle(payment.id, { status: 'SUCCEEDED', amountRefunded: request.amount! });
    };
    expect(await service.refund(admin, payment.id, 400)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      amountRefunded: 400,
    });
    gateway.beforeRefundAnswer = async () => undefined;
    expect(await service.refund(admin, payment.id, 600)).toMatchObject({ status: 'REFUNDED', amountRefunded: 1000 });
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded', 'payment.refunded', 'payment.refunded']);
  });

  it('lets only admins refund, and not a payment that did not succeed', async () => {
    const payment = await paid();
    expect(codeOf(await service.refund(seller, payment.id, 100).catch((e: unknown) => e))).toBe('FORBIDDEN');
    gateway.script = [{ kind: 'declined', reference: null, code: 'card_declined', message: 'declined' }];
    const declined = (await service.charge(seller, input(waitingListing().id))).payment;
    expect(codeOf(await service.refund(admin, declined.id, 100).catch((e: unknown) => e))).toBe('CONFLICT');
    expect(codeOf(await service.refund(admin, randomUUID(), 100).catch((e: unknown) => e))).toBe('NOT_FOUND');
    expect(gateway.refunds).toEqual([]);
  });

  it('autoRefund gives everything back once, however often it runs', async () => {
    const payment = await paid();
    await service.autoRefund(payment.id);
    await service.autoRefund(payment.id);
    expect((await rowOf(payment.id)).status).toBe('REFUNDED');
    expect(gateway.refunds).toHaveLength(1);
    expect(gateway.refunds[0]).toMatchObject({ amount: 1000, idempotencyKey: `saypro-auto-refund-${payment.id}` });
    expect(await service.autoRefund(randomUUID())).toBeNull();
  });
});
