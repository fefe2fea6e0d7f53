import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Viewer } from '../../../../lib/auth';
import type { DatabaseHandle } from '../../../../lib/db';
import { AppError } from '../../../../lib/errors';
import type { ListingFacts, ListingsClient } from '../../../../subgraphs/payments/clients/listings.client';
import { payments, refunds } from '../../../../subgraphs/payments/db/schema';
import { AMOUNT_MISMATCH, CANCELLED, PaymentsService } from '../../../../subgraphs/payments/domain/payments.service';
import {
  type CaptureOutcome,
  type CheckoutCapture,
  CheckoutError,
  type CheckoutEvent,
  type CheckoutGateway,
  type CheckoutOrderState,
  type CheckoutRefundRequest,
  type CheckoutRequest,
  type CheckoutSession,
} from '../../../../subgraphs/payments/provider/checkout-gateway.port';
import type { PaymentGateway } from '../../../../subgraphs/payments/provider/payment-gateway.port';
import type { RefundOutcome } from '../../../../subgraphs/payments/provider/payment-gateway.port';
import { FakeOutage, fastPolicy, recordingBus, silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

type Order = { state: CheckoutOrderState; request: CheckoutRequest };
/** What the next capture of an approved order does: the funding refused, or a capture with this status and amount. */
type CaptureStep = 'declined' | { status?: CheckoutCapture['status']; amount?: number };

/**
 * PayPal's checkout in memory: orders keyed by our payment id (as PayPal-Request-Id makes them),
 * approval by the test, captures from a script, and the changes PayPal makes on its own (a pending
 * capture completing or denied, a refund from its dashboard, an order expiring).
 */
class FakeCheckout implements CheckoutGateway {
  readonly orders = new Map<string, Order>();
  private readonly orderOfPayment = new Map<string, string>();
  readonly calls: Array<{ name: string; orderId?: string }> = [];
  readonly refunds: CheckoutRefundRequest[] = [];
  captureScript: CaptureStep[] = [];
  /** Thrown by the next createOrder calls, in order. */
  createFailures: Error[] = [];

  async createOrder(request: CheckoutRequest): Promise<CheckoutSession> {
    this.calls.push({ name: 'createOrder' });
    const failure = this.createFailures.shift();
    if (failure) throw failure;
    const known = this.orderOfPayment.get(request.paymentId);
    const orderId = known ?? `ORDER-${randomUUID().slice(0, 8)}`;
    if (!known) {
      this.orderOfPayment.set(request.paymentId, orderId);
      this.orders.set(orderId, {
        request,
        state: {
          orderId,
          status: 'created',
          amount: request.amount,
          currency: request.currency,
          paymentId: request.paymentId,
          approvalUrl: `https://paypal.test/approve/${orderId}`,
        },
      });
    }
    return { orderId, approvalUrl: `https://paypal.test/approve/${orderId}` };
  }

  async getOrder(orderId: string): Promise<CheckoutOrderState> {
    this.calls.push({ name: 'getOrder', orderId });
    return structuredClone(this.order(orderId).state);
  }

  async captureOrder(orderId: string): Promise<CaptureOutcome> {
    this.calls.push({ name: 'captureOrder', orderId });
    const { state } = this.order(orderId);
    if (state.capture) return { kind: 'captured', order: structuredClone(state) };
    if (state.status !== 'approved') return { kind: 'not_approved', orderId };
    const step = this.captureScript.shift() ?? {};
    if (step === 'declined') {
      state.status = 'created'; // INSTRUMENT_DECLINED: the payer has to approve again
      return { kind: 'declined', orderId, code: 'INSTRUMENT_DECLINED', message: 'The instrument was declined' };
    }
    state.status = 'completed';
    state.capture = {
      id: `CAPTURE-${randomUUID().slice(0, 8)}`,
      status: step.status ?? 'completed',
      amount: step.amount ?? state.amount,
      currency: state.currency,
      amountRefunded: 0,
    };
    return { kind: 'captured', order: structuredClone(state) };
  }

  async getCapture(captureId: string) {
    this.calls.push({ name: 'getCapture' });
    const order = [...this.orders.values()].find((o) => o.state.capture?.id === captureId);
    if (!order) throw new CheckoutError('not_found', `no capture ${captureId}`, { status: 404 });
    return { ...order.state.capture!, orderId: order.state.orderId, paymentId: order.state.paymentId };
  }

  /** PayPal answering 503 to this many refund calls (past the policy's retries when large). */
  refundOutage = 0;
  async refundCapture(request: CheckoutRefundRequest): Promise<RefundOutcome> {
    if (this.refundOutage > 0) {
      this.refundOutage--;
      throw new FakeOutage('PayPal unavailable');
    }
    this.refunds.push(request);
    // PayPal-Request-Id derives from our payment and refund ids: the same pair is the same refund.
    const requestId = `${request.paymentId}/${request.refundId}`;
    const saved = this.refundsByRequestId.get(requestId);
    if (saved) return saved;
    const capture = (await this.getCapture(request.captureId)) as CheckoutCapture;
    const amount = request.amount ?? capture.amount - capture.amountRefunded;
    this.refundAtPayPal(capture.id, amount);
    // PayPal's refund ids are its own and unique, whatever our refund id.
    const outcome: RefundOutcome = { reference: `REFUND-${randomUUID()}`, amount, status: 'succeeded' };
    this.refundsByRequestId.set(requestId, outcome);
    return outcome;
  }
  private readonly refundsByRequestId = new Map<string, RefundOutcome>();

  verifyWebhook(): never {
    throw new Error('not used: these tests hand the service verified events');
  }
  isTransient = (err: unknown) => err instanceof FakeOutage;
  isOutage = (err: unknown) => err instanceof FakeOutage;

  // ---- what the payer and PayPal do on their own
  approve(orderId: string) {
    this.order(orderId).state.status = 'approved';
  }
  captureOf(orderId: string): CheckoutCapture {
    return this.order(orderId).state.capture!;
  }
  expire(orderId: string) {
    this.orders.delete(orderId);
  }
  refundAtPayPal(captureId: string, amount: number) {
    const order = [...this.orders.values()].find((o) => o.state.capture?.id === captureId)!;
    const capture = order.state.capture!;
    capture.amountRefunded += amount;
    capture.status = capture.amountRefunded >= capture.amount ? 'refunded' : 'partially_refunded';
  }
  callsFor = (orderId: string) => this.calls.filter((c) => c.orderId === orderId).map((c) => c.name);

  private order(orderId: string): Order {
    const order = this.orders.get(orderId);
    if (!order)
      throw new CheckoutError('not_found', `no order ${orderId}`, { status: 404, issue: 'RESOURCE_NOT_FOUND' });
    return order;
  }
}

let handle: DatabaseHandle;
let paypal: FakeCheckout;
let bus: ReturnType<typeof recordingBus>;
let service: PaymentsService;
const listings = new Map<string, ListingFacts>();
const activations: string[] = [];
const listingsClient: ListingsClient = {
  get: async (id) => listings.get(id) ?? null,
  activatePaid: async (listingId) => {
    activations.push(listingId);
    return 'activated';
  },
};
const seller: Viewer = { userId: randomUUID(), roles: ['user'] };
const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };

const waitingListing = (): string => {
  const id = randomUUID();
  listings.set(id, { id, sellerId: seller.userId!, status: 'PENDING_PAYMENT', category: 'VEHICLES', title: 'Van' });
  return id;
};
const key = () => `k-${randomUUID()}`;
const codeOf = (err: unknown) => (err instanceof AppError ? err.code : `not an AppError: ${String(err)}`);
const rowOf = async (id: string) => (await handle.db.select().from(payments).where(eq(payments.id, id)))[0]!;
const eventsFor = (paymentId: string) =>
  bus.published.filter((e) => (e.data as { paymentId?: string }).paymentId === paymentId).map((e) => e.name);
/** An event as PayPal delivers it, under a fresh event id. */
type Delivery = CheckoutEvent extends infer E ? (E extends CheckoutEvent ? Omit<E, 'id'> : never) : never;
const webhook = (event: Delivery) =>
  service.handleCheckoutEvent({ id: `WH-${randomUUID()}`, ...event } as CheckoutEvent);

/** A checkout the seller started and approved on PayPal's page: what the return URL brings back. */
async function approvedCheckout() {
  const listingId = waitingListing();
  const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
  paypal.approve(payment.providerReference!);
  return { listingId, payment, orderId: payment.providerReference! };
}

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(() => {
  paypal = new FakeCheckout();
  bus = recordingBus();
  service = new PaymentsService({
    db: handle.db,
    bus,
    // These tests are about PayPal checkouts: a card call would be a bug.
    gateway: new Proxy({} as PaymentGateway, {
      get: (_t, name) => () => Promise.reject(new Error(`unexpected Stripe call ${String(name)}`)),
    }),
    policy: fastPolicy('stripe'),
    checkout: paypal,
    checkoutPolicy: fastPolicy('paypal'),
    publicUrl: () => 'https://saypro.example',
    listings: listingsClient,
    config: { POSTING_FEE_AMOUNT: 1000, POSTING_FEE_CURRENCY: 'USD', POSTING_FEES: { JOBS: 0 } },
    logger: silentLogger,
  });
});

describe('PaymentsService PayPal checkouts: start and capture', () => {
  it('orders exactly the priced fee, with return URLs on the site, and the same key answers the same order', async () => {
    const listingId = waitingListing();
    const idempotencyKey = key();
    const first = await service.startCheckout(seller, { listingId, idempotencyKey });
    expect(first.payment).toMatchObject({
      status: 'REQUIRES_ACTION',
      provider: 'PAYPAL',
      amount: 1000,
      currency: 'USD',
      providerReference: expect.stringMatching(/^ORDER-/),
    });
    expect(first.approvalUrl).toBe(`https://paypal.test/approve/${first.payment.providerReference}`);
    const { request } = paypal.orders.get(first.payment.providerReference!)!;
    expect(request).toMatchObject({ paymentId: first.payment.id, amount: 1000, currency: 'USD' });
    expect(new URL(request.returnUrl).pathname).toBe('/paypal/return');
    expect(new URL(request.cancelUrl).searchParams.get('payment')).toBe(first.payment.id);

    const again = await service.startCheckout(seller, { listingId, idempotencyKey });
    expect(again.payment.id).toBe(first.payment.id);
    expect(again.approvalUrl).toBe(first.approvalUrl);
    expect(paypal.orders.size).toBe(1);
    // Another key for the same listing while this checkout is live: refused, whichever provider.
    expect(codeOf(await service.startCheckout(seller, { listingId, idempotencyKey: key() }).catch((e) => e))).toBe(
      'CONFLICT',
    );
  });

  it('refuses to capture before the payer approved (CONFLICT) and takes nothing', async () => {
    const listingId = waitingListing();
    const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    expect(codeOf(await service.captureCheckout(seller, { paymentId: payment.id }).catch((e) => e))).toBe('CONFLICT');
    expect((await rowOf(payment.id)).status).toBe('REQUIRES_ACTION');
    expect(paypal.captureOf(payment.providerReference!)).toBeUndefined();
    expect(eventsFor(payment.id)).toEqual([]);
  });

  it('a declined funding source is PAYMENT_REQUIRED and leaves the checkout open: approved again, it is paid once', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = ['declined'];
    expect(codeOf(await service.captureCheckout(seller, { listingId }).catch((e) => e))).toBe('PAYMENT_REQUIRED');
    expect((await rowOf(payment.id)).status).toBe('REQUIRES_ACTION');
    expect(eventsFor(payment.id)).toEqual([]);

    paypal.approve(orderId);
    const paid = await service.captureCheckout(seller, { listingId });
    expect(paid).toMatchObject({ id: payment.id, status: 'SUCCEEDED' });
    expect(await service.captureCheckout(seller, { paymentId: payment.id })).toMatchObject({ status: 'SUCCEEDED' });
    expect(paypal.callsFor(orderId).filter((c) => c === 'captureOrder')).toHaveLength(2); // the decline and the capture
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
    expect(activations).toContain(listingId);
  });

  it('hides another seller’s checkout (NOT_FOUND) and needs exactly one of paymentId and listingId', async () => {
    const { payment, listingId } = await approvedCheckout();
    const other: Viewer = { userId: randomUUID(), roles: ['user'] };
    expect(codeOf(await service.captureCheckout(other, { paymentId: payment.id }).catch((e) => e))).toBe('NOT_FOUND');
    expect(codeOf(await service.captureCheckout(seller, {}).catch((e) => e))).toBe('BAD_USER_INPUT');
    expect(codeOf(await service.captureCheckout(seller, { paymentId: payment.id, listingId }).catch((e) => e))).toBe(
      'BAD_USER_INPUT',
    );
    expect(paypal.captureOf(payment.providerReference!)).toBeUndefined();
  });

  it('PayPal refusing the order itself declines the payment and frees the listing', async () => {
    const listingId = waitingListing();
    paypal.createFailures = [
      new CheckoutError('rejected', 'Currency is not supported', { issue: 'CURRENCY_NOT_SUPPORTED' }),
    ];
    expect(codeOf(await service.startCheckout(seller, { listingId, idempotencyKey: key() }).catch((e) => e))).toBe(
      'CONFLICT',
    );
    const [declined] = await handle.db.select().from(payments).where(eq(payments.listingId, listingId));
    expect(declined).toMatchObject({ status: 'DECLINED', declineCode: 'invalid_request' });
    expect((await service.startCheckout(seller, { listingId, idempotencyKey: key() })).payment.status).toBe(
      'REQUIRES_ACTION',
    );
  });
});

describe('PaymentsService PayPal checkouts: what PayPal does later', () => {
  it('a pending capture is PROCESSING; PAYMENT.CAPTURE.COMPLETED settles it once, however often it arrives', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = [{ status: 'pending' }];
    expect(await service.captureCheckout(seller, { listingId })).toMatchObject({ status: 'PROCESSING' });
    expect(eventsFor(payment.id)).toEqual([]);
    expect(activations).not.toContain(listingId);

    paypal.captureOf(orderId).status = 'completed';
    const event = {
      id: `WH-${randomUUID()}`,
      type: 'capture.completed' as const,
      captureId: paypal.captureOf(orderId).id,
    };
    expect(await service.handleCheckoutEvent(event)).toBe('processed');
    expect(await service.handleCheckoutEvent(event)).toBe('duplicate');
    // Another delivery of the same news under a new event id: processed, and nothing moves twice.
    expect(await webhook({ type: 'capture.completed', captureId: event.captureId })).toBe('processed');
    expect(await rowOf(payment.id)).toMatchObject({ status: 'SUCCEEDED', providerReference: orderId });
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
  });

  it('PAYMENT.CAPTURE.DENIED declines a pending capture and frees the listing for another attempt', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = [{ status: 'pending' }];
    await service.captureCheckout(seller, { paymentId: payment.id });
    paypal.captureOf(orderId).status = 'declined';
    expect(await webhook({ type: 'capture.denied', captureId: paypal.captureOf(orderId).id })).toBe('processed');
    expect(await rowOf(payment.id)).toMatchObject({ status: 'DECLINED', declineCode: 'capture_declined' });
    expect(eventsFor(payment.id)).toEqual(['payment.failed']);
    expect((await service.startCheckout(seller, { listingId, idempotencyKey: key() })).payment.id).not.toBe(payment.id);
  });

  it('CHECKOUT.ORDER.APPROVED captures for a payer who never came back', async () => {
    const { payment, orderId } = await approvedCheckout();
    expect(await webhook({ type: 'order.approved', orderId, paymentId: payment.id })).toBe('processed');
    expect(await rowOf(payment.id)).toMatchObject({ status: 'SUCCEEDED' });
    expect(paypal.captureOf(orderId).status).toBe('completed');
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded']);
  });

  it('PAYMENT.CAPTURE.REFUNDED for refunds made at PayPal records them, in part and then in full', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    await service.captureCheckout(seller, { listingId });
    const captureId = paypal.captureOf(orderId).id;
    paypal.refundAtPayPal(captureId, 300);
    expect(await webhook({ type: 'capture.refunded', refundId: 'R-1', captureId })).toBe('processed');
    expect(await rowOf(payment.id)).toMatchObject({ status: 'PARTIALLY_REFUNDED', amountRefunded: 300 });
    paypal.refundAtPayPal(captureId, 700);
    // The event names only the refund: the capture is found through it (getCapture), as PayPal sends it.
    expect(await webhook({ type: 'capture.refunded', refundId: 'R-2', captureId })).toBe('processed');
    expect(await rowOf(payment.id)).toMatchObject({ status: 'REFUNDED', amountRefunded: 1000 });
    expect(eventsFor(payment.id)).toEqual(['payment.succeeded', 'payment.refunded', 'payment.refunded']);
  });

  it('ignores events for orders we never made, and records them so a redelivery is a duplicate', async () => {
    const event = { id: `WH-${randomUUID()}`, type: 'order.approved' as const, orderId: 'ORDER-nobody' };
    expect(await service.handleCheckoutEvent(event)).toBe('ignored');
    expect(await service.handleCheckoutEvent(event)).toBe('duplicate');
  });

  it('an order never approved expires: reconciliation declines it (order_expired) and the listing can be paid again', async () => {
    const listingId = waitingListing();
    const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    paypal.expire(payment.providerReference!);
    await service.reconcile(0);
    expect(await rowOf(payment.id)).toMatchObject({ status: 'DECLINED', declineCode: 'order_expired' });
    expect(eventsFor(payment.id)).toEqual(['payment.failed']);
    expect((await service.startCheckout(seller, { listingId, idempotencyKey: key() })).payment.status).toBe(
      'REQUIRES_ACTION',
    );
  });
});

describe('PaymentsService PayPal checkouts: amounts and refunds', () => {
  it('a capture of another amount than priced is held for review: never SUCCEEDED, counted, and left alone by reconciliation', async () => {
    const heldBefore = await service.heldForReview();
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = [{ amount: 999 }];
    expect(await service.captureCheckout(seller, { listingId })).toMatchObject({
      status: 'PROCESSING',
      declineCode: AMOUNT_MISMATCH,
      declineMessage: 'captured 999 USD, priced 1000 USD',
    });
    expect(eventsFor(payment.id)).toEqual([]);
    expect(activations).not.toContain(listingId);
    expect(await service.heldForReview()).toBe(heldBefore + 1);

    const callsBefore = paypal.callsFor(orderId).length;
    await service.reconcile(0);
    expect(paypal.callsFor(orderId)).toHaveLength(callsBefore);
    expect((await rowOf(payment.id)).status).toBe('PROCESSING');
    // A webhook about it reads the order again and still holds it.
    expect(await webhook({ type: 'capture.completed', captureId: paypal.captureOf(orderId).id })).toBe('processed');
    expect((await rowOf(payment.id)).status).toBe('PROCESSING');
  });

  it('refunds against the capture with ids derived from ours, in part and then the rest', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    await service.captureCheckout(seller, { listingId });
    expect(await service.refund(admin, payment.id, 400)).toMatchObject({
      status: 'PARTIALLY_REFUNDED',
      amountRefunded: 400,
    });
    expect(await service.refund(admin, payment.id, undefined)).toMatchObject({
      status: 'REFUNDED',
      amountRefunded: 1000,
    });
    expect(paypal.refunds).toEqual([
      expect.objectContaining({ paymentId: payment.id, captureId: paypal.captureOf(orderId).id, amount: 400 }),
      expect.objectContaining({ paymentId: payment.id, amount: 600 }),
    ]);
    expect(new Set(paypal.refunds.map((r) => r.refundId)).size).toBe(2);
    expect(codeOf(await service.refund(seller, payment.id, 1).catch((e) => e))).toBe('FORBIDDEN');
  });
});

describe('PaymentsService PayPal checkouts: the payer cancels', () => {
  it('frees the listing at once: DECLINED (cancelled), and a new checkout may pay it; cancelling again answers the same', async () => {
    const listingId = waitingListing();
    const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    const other: Viewer = { userId: randomUUID(), roles: ['user'] };
    expect(codeOf(await service.cancelCheckout(other, { paymentId: payment.id }).catch((e) => e))).toBe('NOT_FOUND');
    const cancelled = await service.cancelCheckout(seller, { listingId });
    expect(cancelled).toMatchObject({ id: payment.id, status: 'DECLINED', declineCode: CANCELLED });
    expect(await service.cancelCheckout(seller, { paymentId: payment.id })).toMatchObject({ status: 'DECLINED' });
    expect(eventsFor(payment.id)).toEqual(['payment.failed']);
    // Approving the old order now takes nothing: capturing a cancelled checkout answers it as it is.
    paypal.approve(payment.providerReference!);
    expect(await service.captureCheckout(seller, { paymentId: payment.id })).toMatchObject({ status: 'DECLINED' });
    expect(paypal.callsFor(payment.providerReference!)).not.toContain('captureOrder');
    const next = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    expect(next.payment).toMatchObject({ status: 'REQUIRES_ACTION' });
    expect(next.payment.id).not.toBe(payment.id);
  });

  it('refuses once the payer approved (capture it instead), and once it is paid', async () => {
    const { listingId, payment } = await approvedCheckout();
    expect(codeOf(await service.cancelCheckout(seller, { listingId }).catch((e) => e))).toBe('CONFLICT');
    expect((await rowOf(payment.id)).status).toBe('REQUIRES_ACTION');
    await service.captureCheckout(seller, { listingId });
    expect(codeOf(await service.cancelCheckout(seller, { listingId }).catch((e) => e))).toBe('CONFLICT');
    expect((await rowOf(payment.id)).status).toBe('SUCCEEDED');
  });

  it('refunds in full, once, a capture PayPal made in the instant of the cancel', async () => {
    const listingId = waitingListing();
    const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    const orderId = payment.providerReference!;
    await service.cancelCheckout(seller, { paymentId: payment.id });
    // A capture already on its way when the cancel committed: the payer approved in another tab.
    paypal.approve(orderId);
    await paypal.captureOrder(orderId);
    const captureId = paypal.captureOf(orderId).id;
    expect(await webhook({ type: 'capture.completed', captureId })).toBe('processed');
    expect(paypal.captureOf(orderId)).toMatchObject({ status: 'refunded', amountRefunded: 1000 });
    expect(paypal.refunds).toEqual([{ paymentId: payment.id, refundId: CANCELLED, captureId, currency: 'USD' }]);
    // Delivered again: nothing more to give back.
    expect(await webhook({ type: 'capture.completed', captureId })).toBe('processed');
    expect(paypal.refunds).toHaveLength(1);
    expect(await rowOf(payment.id)).toMatchObject({ status: 'DECLINED', declineCode: CANCELLED });
    expect(eventsFor(payment.id)).toEqual(['payment.failed']);
    expect(activations).not.toContain(listingId);
  });
});

describe('PaymentsService PayPal checkouts: what the review found', () => {
  it('a cancelled checkout’s refund that PayPal could not take is finished by the reconciler, once', async () => {
    const listingId = waitingListing();
    const { payment } = await service.startCheckout(seller, { listingId, idempotencyKey: key() });
    const orderId = payment.providerReference!;
    await service.cancelCheckout(seller, { paymentId: payment.id });
    paypal.approve(orderId);
    await paypal.captureOrder(orderId);
    const captureId = paypal.captureOf(orderId).id;
    paypal.refundOutage = 100; // down past every retry
    await expect(webhook({ type: 'capture.completed', captureId })).rejects.toThrow();
    const [owed] = await handle.db.select().from(refunds).where(eq(refunds.paymentId, payment.id));
    expect(owed).toMatchObject({
      status: 'pending',
      amount: 1000,
      idempotencyKey: `saypro-refund-${payment.id}-cancelled`,
    });
    expect(paypal.captureOf(orderId).amountRefunded).toBe(0);

    paypal.refundOutage = 0;
    await service.reconcile(0);
    expect(paypal.captureOf(orderId)).toMatchObject({ status: 'refunded', amountRefunded: 1000 });
    const [done] = await handle.db.select().from(refunds).where(eq(refunds.paymentId, payment.id));
    expect(done).toMatchObject({ status: 'succeeded', providerReference: expect.stringMatching(/^REFUND-/) });
    await service.reconcile(0);
    expect(paypal.refunds).toHaveLength(1);
  });

  it('holds for review a payment already PROCESSING whose capture turns out to be another amount', async () => {
    const heldBefore = await service.heldForReview();
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = [{ status: 'pending' }];
    expect(await service.captureCheckout(seller, { listingId })).toMatchObject({
      status: 'PROCESSING',
      declineCode: null,
    });
    Object.assign(paypal.captureOf(orderId), { status: 'completed', amount: 1200 });
    await webhook({ type: 'capture.completed', captureId: paypal.captureOf(orderId).id });
    expect(await rowOf(payment.id)).toMatchObject({ status: 'PROCESSING', declineCode: AMOUNT_MISMATCH });
    expect(await service.heldForReview()).toBe(heldBefore + 1);
  });

  it('a declined capture is DECLINED whatever its amount: nothing was taken, the listing is free', async () => {
    const { listingId, payment, orderId } = await approvedCheckout();
    paypal.captureScript = [{ status: 'declined', amount: 999 }];
    expect(await service.captureCheckout(seller, { listingId })).toMatchObject({
      status: 'DECLINED',
      declineCode: 'capture_declined',
    });
    expect(paypal.captureOf(orderId).amount).toBe(999);
    expect(eventsFor(payment.id)).toEqual(['payment.failed']);
  });
});
