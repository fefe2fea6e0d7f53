import { metrics } from '../../../lib/metrics';
import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { allows, authorize } from '../../../lib/permissions';
import { postingFee, type FeeConfig } from '../../../lib/config';
import type { Database, Transaction } from '../../../lib/db';
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  PaymentRequiredError,
  PG_UNIQUE_VIOLATION,
  ProviderUnavailableError,
  pgConstraint,
  pgErrorCode,
} from '../../../lib/errors';
import type { EventBus } from '../../../lib/events';
import { isUuid } from '../../../lib/ids';
import { keysetAfter } from '../../../lib/pagination';
import type { Logger } from '../../../lib/logger';
import type { ProviderPolicy } from '../../../lib/resilience';
import type { ListingsClient } from '../clients/listings.client';
import {
  payments,
  refunds,
  webhookEvents,
  type PaymentProvider,
  type PaymentRow,
  type PaymentStatus,
  type RefundRow,
} from '../db/schema';
import {
  CheckoutError,
  type CheckoutEvent,
  type CheckoutGateway,
  type CheckoutOrderState,
  type CheckoutRequest,
} from '../provider/checkout-gateway.port';
import {
  PaymentRequestRejectedError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentGateway,
  type PaymentState,
  type ProviderEvent,
  type RefundOutcome,
} from '../provider/payment-gateway.port';
import { canMove, refundedStatus, UNSETTLED } from './payment-state';

export interface ChargeInput {
  listingId: string;
  paymentMethodId: string;
  idempotencyKey: string;
  /** Optional: what the client believes it is paying; refused when it differs from the fee. */
  amount?: number | null;
  currency?: string | null;
}

export interface ChargeResult {
  payment: PaymentRow;
  /** For REQUIRES_ACTION: what the frontend passes to Stripe.js to finish authentication. */
  clientSecret: string | null;
}

export interface CheckoutInput {
  listingId: string;
  idempotencyKey: string;
}

export interface CheckoutResult {
  payment: PaymentRow;
  /** Where to send the payer to approve; null once the checkout is past approval. */
  approvalUrl: string | null;
}

/** Which PayPal checkout to capture: ours by id, or the latest of a listing. */
export interface CaptureInput {
  paymentId?: string | null;
  listingId?: string | null;
}

type SettleState = {
  status: PaymentStatus;
  reference?: string | null;
  declineCode?: string | null;
  declineMessage?: string | null;
  amountRefunded?: number;
};

export interface RequestMeta {
  requestId?: string;
}

export interface PaymentsDeps {
  db: Database;
  bus: EventBus;
  gateway: PaymentGateway;
  policy: ProviderPolicy;
  /** PayPal checkouts, with their own retry policy and breaker. */
  checkout: CheckoutGateway;
  checkoutPolicy: ProviderPolicy;
  /** SayPro's site, where PayPal sends the payer back. */
  publicUrl: () => string;
  listings: ListingsClient;
  config: FeeConfig;
  logger: Logger;
}

const LIVE_PER_LISTING = 'payments_one_live_per_listing';
const KEY_PER_USER = 'payments_user_idempotency_key';

/**
 * Charging for listings, safely:
 * - the attempt is recorded (PENDING, with its provider idempotency key) before the provider is called;
 * - a unique index allows one live payment per listing, so concurrent requests cannot double charge;
 * - every provider attempt and every resume reuses the same provider idempotency key;
 * - answers from responses, webhooks and reconciliation all go through `settle`, which only moves
 *   forward and publishes payment.succeeded / payment.failed in the same transaction.
 */
export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {}

  async charge(viewer: Viewer, input: ChargeInput, meta: RequestMeta = {}): Promise<ChargeResult> {
    const userId = signedIn(viewer);
    const existing = await this.byClientKey(userId, input.idempotencyKey);
    if (existing) return this.replay(existing, input, meta);

    const { listingId, fee } = await this.payable(viewer, input.listingId, meta);
    if (input.amount != null && input.amount !== fee.amount) {
      throw new BadUserInputError(
        {
          field: 'amount',
          message: `amount must be the posting fee, ${fee.amount} (${fee.currency} minor units); nothing was charged`,
        },
        'input',
      );
    }
    if (input.currency != null && input.currency.toUpperCase() !== fee.currency) {
      throw new BadUserInputError(
        { field: 'currency', message: `currency must be ${fee.currency}; nothing was charged` },
        'input',
      );
    }
    const row = newPayment({
      listingId,
      userId,
      fee,
      key: input.idempotencyKey,
      provider: 'STRIPE',
      paymentMethodId: input.paymentMethodId,
    });
    const winner = await this.insertLive(row);
    return winner ? this.replay(winner, input, meta) : this.execute(row, meta);
  }

  /** The listing the viewer may pay for now, and its server-priced fee. */
  private async payable(viewer: Viewer, listingId: string, meta: RequestMeta) {
    const listing = await this.deps.listings.get(listingId, viewer, meta.requestId);
    if (!listing) throw new NotFoundError('Listing', listingId);
    authorize(viewer, 'payment.charge', listing.sellerId);
    if (listing.status !== 'PENDING_PAYMENT') {
      throw new ConflictError(
        `Listing ${listing.id} is ${listing.status}; only a listing waiting for payment can be charged`,
        { id: listing.id },
      );
    }
    const fee = postingFee(this.deps.config, listing.category);
    if (fee.amount <= 0) throw new ConflictError(`Listings in ${listing.category} are free`, { id: listing.id });
    return { listingId: listing.id, fee };
  }

  /**
   * Records a new attempt. The unique indexes decide races: the same client key returns the row
   * that won (to replay), another live payment of the listing, whichever provider, is a CONFLICT.
   */
  private async insertLive(row: PaymentRow): Promise<PaymentRow | undefined> {
    try {
      await this.deps.db.insert(payments).values(row);
      return undefined;
    } catch (err) {
      if (pgErrorCode(err) !== PG_UNIQUE_VIOLATION) throw err;
      const constraint = pgConstraint(err);
      if (constraint === KEY_PER_USER) {
        const winner = await this.byClientKey(row.userId, row.clientIdempotencyKey);
        if (winner) return winner;
      }
      if (constraint === LIVE_PER_LISTING) {
        const [live] = await this.deps.db
          .select({ id: payments.id, status: payments.status, provider: payments.provider })
          .from(payments)
          .where(
            and(
              eq(payments.listingId, row.listingId),
              inArray(payments.status, ['PENDING', 'PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'PARTIALLY_REFUNDED']),
            ),
          );
        throw new ConflictError(
          `Listing ${row.listingId} already has a ${live?.provider === 'PAYPAL' ? 'PayPal' : 'card'} payment (${live?.status ?? 'in progress'}); it is not charged again`,
          { id: live?.id },
        );
      }
      throw err;
    }
  }

  /** The same client key again: the same answer, or the unfinished attempt carried on with the same provider key. */
  private async replay(existing: PaymentRow, input: ChargeInput, meta: RequestMeta): Promise<ChargeResult> {
    if (
      existing.provider !== 'STRIPE' ||
      existing.listingId !== input.listingId ||
      existing.paymentMethodId !== input.paymentMethodId
    ) {
      throw new BadUserInputError(
        { field: 'idempotencyKey', message: 'idempotencyKey was already used for a different charge' },
        'input',
      );
    }
    if (existing.status === 'PENDING') return this.execute(existing, meta);
    return { payment: existing, clientSecret: null };
  }

  /** Calls the provider for a PENDING payment (first time or resumed) and settles the answer. */
  private async execute(row: PaymentRow, meta: RequestMeta): Promise<ChargeResult> {
    try {
      const result = await this.attemptCharge(row, meta);
      metrics.charges.inc({
        outcome: result.clientSecret
          ? 'requires_action'
          : result.payment.status === 'SUCCEEDED'
            ? 'succeeded'
            : result.payment.status === 'DECLINED'
              ? 'declined'
              : 'pending',
      });
      return result;
    } catch (err) {
      metrics.charges.inc({
        outcome:
          err instanceof ProviderUnavailableError
            ? 'unavailable'
            : err instanceof BadUserInputError
              ? 'declined'
              : 'failed',
      });
      throw err;
    }
  }

  private async attemptCharge(row: PaymentRow, meta: RequestMeta): Promise<ChargeResult> {
    let outcome: ChargeOutcome;
    try {
      outcome = await this.deps.policy.execute(async (attempt) => {
        await this.deps.db
          .update(payments)
          .set({ attempts: sql`${payments.attempts} + 1` })
          .where(eq(payments.id, row.id));
        return this.deps.gateway.charge(chargeRequestFor(row), attempt);
      }, 'charge');
    } catch (err) {
      if (err instanceof PaymentRequestRejectedError) {
        // The provider refused the request itself (e.g. an unknown payment method): nothing was charged.
        const settled = await this.settle(
          row.id,
          { status: 'DECLINED', declineCode: 'invalid_request', declineMessage: err.message },
          meta,
        );
        if (err.param === 'payment_method')
          throw new BadUserInputError(
            { field: 'paymentMethodId', message: `paymentMethodId was refused: ${err.message}` },
            'input',
          );
        return { payment: settled, clientSecret: null };
      }
      if (err instanceof ProviderUnavailableError) {
        this.deps.logger.warn(
          { paymentId: row.id, reqId: meta.requestId },
          'charge outcome unknown: left PENDING for retry and reconciliation',
        );
      }
      throw err;
    }
    const payment = await this.settle(row.id, stateOf(outcome), meta);
    if (payment.status === 'SUCCEEDED') await this.activateListing(payment, meta);
    return { payment, clientSecret: outcome.kind === 'requires_action' ? outcome.clientSecret : null };
  }

  /**
   * Puts the paid listing live before the charge answers, so the answer's `listing.status` is
   * already ACTIVE. Best effort: payment.succeeded (committed with the payment) does it anyway,
   * so a listings outage here only delays the activation, never loses it.
   */
  private async activateListing(payment: PaymentRow, meta: RequestMeta): Promise<void> {
    try {
      const outcome = await this.deps.listings.activatePaid(
        payment.listingId,
        { amount: payment.amount, currency: payment.currency },
        meta.requestId,
      );
      this.deps.logger.info(
        { paymentId: payment.id, listingId: payment.listingId, outcome, reqId: meta.requestId },
        'listing activated with the charge',
      );
    } catch (err) {
      this.deps.logger.warn(
        { paymentId: payment.id, listingId: payment.listingId, error: (err as Error)?.message, reqId: meta.requestId },
        'listing not activated with the charge; payment.succeeded will',
      );
    }
  }

  /**
   * Moves a payment forward to what the provider says, in one transaction with the event it causes.
   * Stale or repeated answers change nothing.
   */
  async settle(paymentId: string, state: SettleState, meta: RequestMeta = {}, tx?: Transaction): Promise<PaymentRow> {
    const work = async (t: Transaction): Promise<PaymentRow> => {
      const [current] = await t.select().from(payments).where(eq(payments.id, paymentId)).for('update');
      if (!current) throw new NotFoundError('Transaction', paymentId);
      let next = state.status;
      if (
        state.amountRefunded !== undefined &&
        state.amountRefunded > current.amountRefunded &&
        ['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(current.status)
      ) {
        next = refundedStatus(current.amount, state.amountRefunded);
      }
      // A capture of another amount than priced, found on a payment already PROCESSING, is still news.
      const newlyHeld =
        next === 'PROCESSING' && state.declineCode === AMOUNT_MISMATCH && current.declineCode !== AMOUNT_MISMATCH;
      if (
        !canMove(current.status, next) ||
        (next === current.status &&
          !newlyHeld &&
          (state.amountRefunded ?? current.amountRefunded) <= current.amountRefunded)
      ) {
        return current;
      }
      const now = new Date();
      const [updated] = await t
        .update(payments)
        .set({
          status: next,
          updatedAt: now,
          ...(state.reference ? { providerReference: state.reference } : {}),
          ...(next === 'DECLINED'
            ? { declineCode: state.declineCode ?? 'declined', declineMessage: state.declineMessage ?? null }
            : next === 'PROCESSING' && state.declineCode === AMOUNT_MISMATCH
              ? { declineCode: state.declineCode, declineMessage: state.declineMessage ?? null }
              : {}),
          ...(next === 'SUCCEEDED' ? { succeededAt: now } : {}),
          ...(state.amountRefunded !== undefined && state.amountRefunded > current.amountRefunded
            ? { amountRefunded: state.amountRefunded }
            : {}),
        })
        .where(eq(payments.id, paymentId))
        .returning();
      const p = updated!;
      const base = { paymentId: p.id, listingId: p.listingId, userId: p.userId };
      if (next === 'SUCCEEDED' && current.status !== 'SUCCEEDED') {
        metrics.chargedAmount.inc({ currency: p.currency }, p.amount);
        await this.deps.bus.publish(
          t,
          'payment.succeeded',
          { ...base, amount: p.amount, currency: p.currency, providerReference: p.providerReference ?? '' },
          meta,
        );
      } else if (next === 'DECLINED') {
        await this.deps.bus.publish(
          t,
          'payment.failed',
          { ...base, code: p.declineCode ?? 'declined', message: p.declineMessage ?? '' },
          meta,
        );
      } else if (next === 'REFUNDED' || next === 'PARTIALLY_REFUNDED') {
        metrics.refunds.inc({ outcome: 'succeeded' });
        await this.deps.bus.publish(
          t,
          'payment.refunded',
          { ...base, amountRefunded: p.amountRefunded, currency: p.currency, fullyRefunded: next === 'REFUNDED' },
          meta,
        );
      }
      this.deps.logger.info({ paymentId, from: current.status, to: next, reqId: meta.requestId }, 'payment settled');
      return p;
    };
    return tx ? work(tx) : this.deps.db.transaction(work);
  }

  /** Whether a provider's webhook event (Stripe's or PayPal's, by its id) was handled already. */
  private async webhookSeen(id: string): Promise<boolean> {
    const [seen] = await this.deps.db
      .select({ id: webhookEvents.id })
      .from(webhookEvents)
      .where(eq(webhookEvents.id, id));
    return Boolean(seen);
  }

  /** Records a webhook event as handled; answers no row when another delivery recorded it first. */
  private recordWebhook(t: Transaction, id: string, type: string) {
    return t
      .insert(webhookEvents)
      .values({ id, type, receivedAt: new Date() })
      .onConflictDoNothing()
      .returning({ id: webhookEvents.id });
  }

  /**
   * A verified provider webhook: deduplicated by event id, and reconciled by reading the payment's
   * current state from the provider (events arrive late, twice and out of order).
   */
  async handleProviderEvent(event: ProviderEvent): Promise<'processed' | 'duplicate' | 'ignored'> {
    if (await this.webhookSeen(event.id)) return 'duplicate';
    const record = (t: Transaction, type: string) => this.recordWebhook(t, event.id, type);
    if (event.type === 'ignored') {
      await this.deps.db.transaction((t) => record(t, event.providerType));
      return 'ignored';
    }
    const state = await this.deps.policy.execute(() => this.deps.gateway.retrieve(event.reference), 'retrieve');
    const payment = await this.findForProvider(state.paymentId ?? event.paymentId, event.reference);
    return this.deps.db.transaction(async (t) => {
      const fresh = await record(t, event.type);
      if (fresh.length === 0) return 'duplicate';
      if (!payment) {
        this.deps.logger.warn(
          { reference: event.reference, eventId: event.id },
          'provider event for a payment we do not know',
        );
        return 'ignored';
      }
      await this.settle(payment.id, fromProviderState(state), {}, t);
      return 'processed';
    });
  }

  /**
   * Finishes what is unfinished: PENDING attempts are resumed with their provider key (the provider
   * replays its saved answer, or does the work once), others are re-read. Safe to run from many processes.
   */
  async reconcile(olderThanMs = 30_000): Promise<number> {
    const cutoff = new Date(Date.now() - olderThanMs);
    const open = await this.deps.db
      .select()
      .from(payments)
      .where(
        and(
          inArray(payments.status, [...UNSETTLED]),
          lt(payments.updatedAt, cutoff),
          // Held for review (settleCheckout): reading its order again changes nothing; a person decides.
          sql`${payments.declineCode} is distinct from ${AMOUNT_MISMATCH}`,
        ),
      )
      .limit(50);
    let settled = 0;
    for (const row of open) {
      try {
        if (row.provider === 'PAYPAL') await this.reconcileCheckout(row, {});
        else if (row.status === 'PENDING') await this.execute(row, {});
        else if (row.providerReference)
          await this.settle(
            row.id,
            fromProviderState(
              await this.deps.policy.execute(() => this.deps.gateway.retrieve(row.providerReference!), 'retrieve'),
            ),
          );
        settled++;
      } catch (err) {
        this.deps.logger.warn(
          { paymentId: row.id, err: (err as Error).message },
          'reconciliation attempt failed; will retry',
        );
      }
    }
    return settled + (await this.finishCancelledRefunds(cutoff));
  }

  /** Admins refund all or part of a succeeded payment. */
  async refund(
    viewer: Viewer,
    paymentId: string,
    amount: number | null | undefined,
    meta: RequestMeta = {},
  ): Promise<PaymentRow> {
    const [payment] = isUuid(paymentId)
      ? await this.deps.db.select({ userId: payments.userId }).from(payments).where(eq(payments.id, paymentId))
      : [];
    authorize(viewer, 'payment.refund', payment?.userId); // before NOT_FOUND: a refused caller learns nothing about the id
    return this.refundWith(
      { paymentId, amount, key: `saypro-refund-${randomUUID()}`, requestedBy: viewer.userId },
      meta,
    );
  }

  /**
   * The payment reached a listing that can no longer go live: give all of it back. Keyed by the
   * payment, so running it again (a redelivered event, a crash) never refunds twice.
   */
  async autoRefund(paymentId: string, meta: RequestMeta = {}): Promise<PaymentRow | null> {
    const [payment] = isUuid(paymentId)
      ? await this.deps.db.select().from(payments).where(eq(payments.id, paymentId))
      : [];
    if (!payment) return null;
    if (payment.status === 'REFUNDED') return payment;
    const [earlier] = await this.deps.db
      .select()
      .from(refunds)
      .where(eq(refunds.idempotencyKey, autoRefundKey(paymentId)));
    if (!earlier && !['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(payment.status)) return payment;
    this.deps.logger.warn(
      { paymentId, listingId: payment.listingId, reqId: meta.requestId },
      'refunding a payment for a listing that cannot go live',
    );
    return this.refundWith(
      { paymentId, amount: earlier?.amount, key: autoRefundKey(paymentId), requestedBy: null },
      meta,
    );
  }

  private async refundWith(
    request: { paymentId: string; amount: number | null | undefined; key: string; requestedBy: string | null },
    meta: RequestMeta,
  ): Promise<PaymentRow> {
    const { paymentId } = request;
    const [payment] = isUuid(paymentId)
      ? await this.deps.db.select().from(payments).where(eq(payments.id, paymentId))
      : [];
    if (!payment) throw new NotFoundError('Transaction', paymentId);
    let [row] = await this.deps.db.select().from(refunds).where(eq(refunds.idempotencyKey, request.key));
    if (row?.status === 'succeeded') return payment; // this very refund already happened
    if (!row) {
      if (!['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(payment.status) || !payment.providerReference) {
        throw new ConflictError(`Transaction ${paymentId} is ${payment.status} and cannot be refunded`, {
          id: paymentId,
        });
      }
      const remaining = payment.amount - payment.amountRefunded;
      const value = request.amount ?? remaining;
      if (!Number.isInteger(value) || value <= 0 || value > remaining) {
        throw new BadUserInputError(
          { field: 'amount', message: `amount must be between 1 and ${remaining} (what is left to refund)` },
          'amount',
        );
      }
      [row] = await this.deps.db
        .insert(refunds)
        .values({
          id: randomUUID(),
          paymentId,
          amount: value,
          idempotencyKey: request.key,
          status: 'pending',
          requestedBy: request.requestedBy,
          createdAt: new Date(),
        })
        .returning();
    }
    const refund = row!;
    let outcome;
    try {
      outcome =
        payment.provider === 'PAYPAL'
          ? await this.refundCapture(payment, refund)
          : await this.deps.policy.execute(
              (attempt) =>
                this.deps.gateway.refund(
                  { reference: payment.providerReference!, amount: refund.amount, idempotencyKey: request.key },
                  attempt,
                ),
              'refund',
            );
    } catch (err) {
      metrics.refunds.inc({ outcome: err instanceof ProviderUnavailableError ? 'unavailable' : 'failed' });
      if (
        err instanceof PaymentRequestRejectedError ||
        (err instanceof CheckoutError && (err.kind === 'conflict' || err.kind === 'rejected'))
      ) {
        await this.deps.db.update(refunds).set({ status: 'failed' }).where(eq(refunds.id, refund.id));
        throw new ConflictError(`The refund was refused: ${err.message}`, { id: paymentId });
      }
      throw appErrorOf(err);
    }
    return this.deps.db.transaction(async (t) => {
      await t
        .update(refunds)
        .set({ status: outcome.status, providerReference: outcome.reference })
        .where(eq(refunds.id, refund.id));
      const [current] = await t.select().from(payments).where(eq(payments.id, paymentId)).for('update');
      // The total our refunds reached, as the provider confirmed them. Not current + this one: the
      // provider's webhook may have set its own total (which counts this refund) while we waited.
      const [confirmed] = await t
        .select({ total: sql<string>`coalesce(sum(${refunds.amount}), 0)` })
        .from(refunds)
        .where(
          and(
            eq(refunds.paymentId, paymentId),
            sql`${refunds.providerReference} is not null`,
            sql`${refunds.status} <> 'failed'`,
          ),
        );
      return this.settle(
        paymentId,
        { status: current!.status, amountRefunded: Math.max(current!.amountRefunded, Number(confirmed!.total)) },
        meta,
        t,
      );
    });
  }

  /**
   * Opens a PayPal checkout for a listing: the payment is recorded (PENDING, PAYPAL) before the
   * order is created for exactly the priced fee; the same client key answers the same order.
   */
  async startCheckout(viewer: Viewer, input: CheckoutInput, meta: RequestMeta = {}): Promise<CheckoutResult> {
    const userId = signedIn(viewer);
    const existing = await this.byClientKey(userId, input.idempotencyKey);
    if (existing) return this.replayCheckout(existing, input, meta);
    const { listingId, fee } = await this.payable(viewer, input.listingId, meta);
    const row = newPayment({
      listingId,
      userId,
      fee,
      key: input.idempotencyKey,
      provider: 'PAYPAL',
      paymentMethodId: 'paypal',
    });
    const winner = await this.insertLive(row);
    return winner ? this.replayCheckout(winner, input, meta) : this.openOrder(row, meta);
  }

  private async replayCheckout(existing: PaymentRow, input: CheckoutInput, meta: RequestMeta): Promise<CheckoutResult> {
    if (existing.provider !== 'PAYPAL' || existing.listingId !== input.listingId) {
      throw new BadUserInputError(
        { field: 'idempotencyKey', message: 'idempotencyKey was already used for a different payment' },
        'input',
      );
    }
    // Waiting for the payer: creating the order again with its PayPal-Request-Id answers the same order.
    if (existing.status === 'PENDING' || existing.status === 'REQUIRES_ACTION') return this.openOrder(existing, meta);
    return { payment: existing, approvalUrl: null };
  }

  /** Creates (or, with the same request id, finds again) the payment's order; the payment then waits for the payer. */
  private async openOrder(row: PaymentRow, meta: RequestMeta): Promise<CheckoutResult> {
    let session;
    try {
      session = await this.deps.checkoutPolicy.execute(
        (attempt) => this.deps.checkout.createOrder(checkoutRequestFor(row, this.deps.publicUrl()), attempt),
        'create order',
      );
    } catch (err) {
      if (err instanceof CheckoutError && err.kind === 'rejected') {
        // PayPal refused the order itself (a currency it does not take): nothing can be charged; the listing is free again.
        await this.settle(
          row.id,
          { status: 'DECLINED', declineCode: 'invalid_request', declineMessage: err.message },
          meta,
        );
        throw new ConflictError(`PayPal cannot take this payment: ${err.message}`, { id: row.id });
      }
      throw appErrorOf(err);
    }
    const payment = await this.settle(row.id, { status: 'REQUIRES_ACTION', reference: session.orderId }, meta);
    return { payment, approvalUrl: payment.status === 'REQUIRES_ACTION' ? session.approvalUrl : null };
  }

  /**
   * The payer came back from PayPal: captures the order once (a second call answers the first
   * capture) and settles exactly as a card charge does, so the listing goes ACTIVE with the answer.
   */
  async captureCheckout(viewer: Viewer, input: CaptureInput, meta: RequestMeta = {}): Promise<PaymentRow> {
    signedIn(viewer);
    const payment = await this.checkoutOf(viewer, input);
    authorize(viewer, 'payment.charge', payment.userId);
    if (!UNSETTLED.includes(payment.status)) return payment;
    if (!payment.providerReference) {
      throw new ConflictError(
        `Transaction ${payment.id} has no PayPal order yet; start the checkout again with the same idempotencyKey`,
        { id: payment.id },
      );
    }
    const order = await this.captureOrder(payment);
    if (order === 'not_approved')
      throw new ConflictError('The payer has not approved this PayPal checkout yet; nothing was captured', {
        id: payment.id,
      });
    if (order === 'declined')
      throw new PaymentRequiredError(
        'PayPal declined the payer’s funding source; send them to approve again (startPayPalCheckout with the same key)',
        { id: payment.id },
      );
    const settled = await this.settleCheckout(payment, order, meta);
    if (settled.status === 'SUCCEEDED') await this.activateListing(settled, meta);
    await this.refundIfCancelled(settled, order);
    return settled;
  }

  /**
   * A checkout cancelled while its capture was on its way (cancelCheckout): PayPal holds money for a
   * DECLINED payment, which is given back in full. The refund is recorded (`pending`) before PayPal
   * is asked, with one PayPal-Request-Id however often this runs, so a failure here is finished by
   * the reconciler (finishCancelledRefunds), not lost.
   */
  private async refundIfCancelled(payment: PaymentRow, order: CheckoutOrderState | null): Promise<void> {
    const capture = order?.capture;
    if (payment.status !== 'DECLINED' || payment.declineCode !== CANCELLED || !capture) return;
    const key = cancelledRefundKey(payment.id);
    if (capture.amountRefunded >= capture.amount) {
      // Refunded already (its answer was lost, or PayPal's dashboard did it): the record says so.
      await this.deps.db
        .update(refunds)
        .set({ status: 'succeeded' })
        .where(and(eq(refunds.idempotencyKey, key), eq(refunds.status, 'pending')));
      return;
    }
    if (capture.status !== 'completed' && capture.status !== 'partially_refunded') return; // no money taken yet
    await this.deps.db
      .insert(refunds)
      .values({
        id: randomUUID(),
        paymentId: payment.id,
        amount: capture.amount - capture.amountRefunded,
        idempotencyKey: key,
        status: 'pending',
        requestedBy: null,
        createdAt: new Date(),
      })
      .onConflictDoNothing();
    this.deps.logger.warn(
      { paymentId: payment.id, orderId: order!.orderId, captureId: capture.id },
      'PayPal captured a cancelled checkout: refunding the capture in full',
    );
    const outcome = await this.deps.checkoutPolicy.execute(
      (attempt) =>
        this.deps.checkout.refundCapture(
          { paymentId: payment.id, refundId: CANCELLED, captureId: capture.id, currency: capture.currency },
          attempt,
        ),
      'refund',
    );
    await this.deps.db
      .update(refunds)
      .set({ status: outcome.status, providerReference: outcome.reference })
      .where(eq(refunds.idempotencyKey, key));
    if (outcome.status === 'succeeded') metrics.refunds.inc({ outcome: 'succeeded' });
  }

  /** Refunds of cancelled checkouts that did not finish (PayPal down at the time): asked again, same request id. */
  private async finishCancelledRefunds(cutoff: Date): Promise<number> {
    const owed = await this.deps.db
      .select({ payment: payments })
      .from(refunds)
      .innerJoin(payments, eq(refunds.paymentId, payments.id))
      .where(
        and(
          eq(refunds.status, 'pending'),
          eq(refunds.idempotencyKey, sql`'saypro-refund-' || ${payments.id} || '-cancelled'`),
          lt(refunds.createdAt, cutoff),
        ),
      )
      .limit(50);
    let finished = 0;
    for (const { payment } of owed) {
      try {
        await this.refundIfCancelled(payment, await this.readOrder(payment.providerReference!));
        finished++;
      } catch (err) {
        this.deps.logger.warn(
          { paymentId: payment.id, err: (err as Error).message },
          'refund of a cancelled checkout failed; will retry',
        );
      }
    }
    return finished;
  }

  /**
   * Settles a PayPal payment from its order. A capture of another amount than was priced is never a
   * success: the payment is held (PROCESSING, declineCode amount_mismatch), logged as an error once and
   * counted by the payments_held_for_review gauge, for a person to look at (observability/RUNBOOK.md).
   */
  private async settleCheckout(
    payment: PaymentRow,
    order: CheckoutOrderState | null,
    meta: RequestMeta,
    tx?: Transaction,
  ): Promise<PaymentRow> {
    const state = settlementOf(payment, order);
    const settled = await this.settle(payment.id, state, meta, tx);
    if (state.declineCode === AMOUNT_MISMATCH && payment.declineCode !== AMOUNT_MISMATCH)
      this.deps.logger.error(
        { paymentId: payment.id, orderId: order?.orderId, detail: state.declineMessage, reqId: meta.requestId },
        'PayPal captured another amount than was priced: the payment is held for review',
      );
    return settled;
  }

  /** Payments held for a person to look at (a capture of another amount than priced): the gauge's reading. */
  async heldForReview(): Promise<number> {
    const [row] = await this.deps.db
      .select({ n: sql<number>`count(*)::int` })
      .from(payments)
      .where(and(eq(payments.status, 'PROCESSING'), eq(payments.declineCode, AMOUNT_MISMATCH)));
    return Number(row?.n ?? 0);
  }

  /**
   * The payer turned PayPal down (the cancel URL): the checkout ends DECLINED (`cancelled`), so the
   * listing may be paid by card or a new checkout at once rather than when the order expires.
   * Refused once the payer approved (capture it instead). Cancelling again answers the same. Should
   * PayPal capture it all the same (the payer approved in another tab and a capture was already on
   * its way), the capture is refunded in full: a cancelled checkout never keeps money.
   */
  async cancelCheckout(viewer: Viewer, input: CaptureInput, meta: RequestMeta = {}): Promise<PaymentRow> {
    signedIn(viewer);
    const payment = await this.checkoutOf(viewer, input);
    authorize(viewer, 'payment.charge', payment.userId);
    if (payment.status === 'DECLINED' && payment.declineCode === CANCELLED) return payment;
    if (payment.status !== 'PENDING' && payment.status !== 'REQUIRES_ACTION')
      throw new ConflictError(
        `Transaction ${payment.id} is ${payment.status}; only a checkout waiting for the payer can be cancelled`,
        { id: payment.id },
      );
    const order = payment.providerReference ? await this.readOrder(payment.providerReference) : null;
    if (order && order.status !== 'created')
      throw new ConflictError(
        'The payer approved this PayPal checkout; capture it (capturePayPalCheckout) instead of cancelling',
        { id: payment.id },
      );
    const settled = await this.settle(
      payment.id,
      { status: 'DECLINED', declineCode: CANCELLED, declineMessage: 'The payer cancelled the PayPal checkout.' },
      meta,
    );
    if (settled.status !== 'DECLINED')
      throw new ConflictError(`Transaction ${payment.id} moved on to ${settled.status}; it was not cancelled`, {
        id: payment.id,
      });
    return settled;
  }

  /** The viewer's PayPal payment by id, or the latest of a listing; NOT_FOUND for others'. */
  private async checkoutOf(viewer: Viewer, input: CaptureInput): Promise<PaymentRow> {
    const by = input.paymentId ?? input.listingId;
    if (!by || (input.paymentId && input.listingId)) {
      throw new BadUserInputError({ field: 'input', message: 'give exactly one of paymentId and listingId' }, 'input');
    }
    const [row] = !isUuid(by)
      ? []
      : input.paymentId
        ? await this.deps.db
            .select()
            .from(payments)
            .where(and(eq(payments.id, by), eq(payments.provider, 'PAYPAL')))
        : await this.deps.db
            .select()
            .from(payments)
            .where(and(eq(payments.listingId, by), eq(payments.provider, 'PAYPAL')))
            .orderBy(desc(payments.createdAt), desc(payments.id))
            .limit(1);
    if (!row || !allows(viewer, 'payment.read', row.userId))
      throw new NotFoundError(input.paymentId ? 'Transaction' : 'PayPal checkout of listing', by);
    return row;
  }

  /**
   * Captures the payment's order with its PayPal-Request-Id (every retry the same). An order gone
   * (never approved, expired) reads as null: nothing was taken.
   */
  private async captureOrder(payment: PaymentRow): Promise<CheckoutOrderState | null | 'not_approved' | 'declined'> {
    try {
      const outcome = await this.deps.checkoutPolicy.execute(
        (attempt) => this.deps.checkout.captureOrder(payment.providerReference!, payment.id, attempt),
        'capture',
      );
      return outcome.kind === 'captured' ? outcome.order : outcome.kind;
    } catch (err) {
      if (err instanceof CheckoutError && err.kind === 'not_found') return null;
      throw appErrorOf(err);
    }
  }

  /** The order as PayPal has it now; null when it is gone (expired unapproved). */
  private async readOrder(orderId: string): Promise<CheckoutOrderState | null> {
    try {
      return await this.deps.checkoutPolicy.execute(() => this.deps.checkout.getOrder(orderId), 'get order');
    } catch (err) {
      if (err instanceof CheckoutError && err.kind === 'not_found') return null;
      throw appErrorOf(err);
    }
  }

  /**
   * Where an unfinished PayPal payment is: the order is created again if we never heard back,
   * captured if the payer approved and never returned, declined (freeing the listing) once it expired.
   */
  private async reconcileCheckout(row: PaymentRow, meta: RequestMeta): Promise<PaymentRow> {
    if (row.status === 'PENDING' || !row.providerReference) return (await this.openOrder(row, meta)).payment;
    const order = await this.currentOrder(row);
    const settled = await this.settleCheckout(row, order, meta);
    await this.refundIfCancelled(settled, order); // cancelled while this reconciliation captured it
    return settled;
  }

  /** Reads the order, capturing it when approved and not yet captured (the payer did their part). */
  private async currentOrder(row: PaymentRow): Promise<CheckoutOrderState | null> {
    const order = await this.readOrder(row.providerReference!);
    if (order?.status !== 'approved' || !UNSETTLED.includes(row.status)) return order;
    const captured = await this.captureOrder(row);
    return typeof captured === 'string' ? order : captured;
  }

  /**
   * A verified PayPal webhook: deduplicated by event id, reconciled by reading the order (events
   * come late, twice, out of order), settled through the same path as every other answer.
   */
  async handleCheckoutEvent(event: CheckoutEvent): Promise<'processed' | 'duplicate' | 'ignored'> {
    if (await this.webhookSeen(event.id)) return 'duplicate';
    const record = (t: Transaction, type: string) => this.recordWebhook(t, event.id, type);
    const type = event.type === 'ignored' ? event.providerType : `paypal.${event.type}`;
    let orderId: string | undefined;
    let paymentId: string | undefined;
    if (event.type === 'order.approved') ({ orderId, paymentId } = event);
    else if (event.type !== 'ignored') {
      if (event.type !== 'capture.refunded') ({ orderId, paymentId } = event);
      const captureId = event.captureId;
      if ((!orderId || !paymentId) && captureId) {
        const capture = await this.deps.checkoutPolicy.execute(
          () => this.deps.checkout.getCapture(captureId),
          'get capture',
        );
        orderId ??= capture.orderId;
        paymentId ??= capture.paymentId;
      }
    }
    const payment = orderId ? await this.findForProvider(paymentId, orderId) : undefined;
    if (payment?.provider !== 'PAYPAL') {
      if (event.type !== 'ignored')
        this.deps.logger.warn({ orderId, eventId: event.id, type }, 'paypal event for a payment we do not know');
      await this.deps.db.transaction((t) => record(t, type));
      return 'ignored';
    }
    const order = await this.currentOrder(payment);
    const settled = await this.deps.db.transaction(async (t) => {
      const fresh = await record(t, type);
      if (fresh.length === 0) return undefined;
      return this.settleCheckout(payment, order, {}, t);
    });
    if (!settled) return 'duplicate';
    await this.refundIfCancelled(settled, order);
    return 'processed';
  }

  /** A PayPal payment's refund: against its capture, with a PayPal-Request-Id from our payment and refund ids. */
  private async refundCapture(payment: PaymentRow, refund: RefundRow): Promise<RefundOutcome> {
    const capture = (await this.readOrder(payment.providerReference!))?.capture;
    if (!capture)
      throw new ConflictError(`Transaction ${payment.id} has no PayPal capture to refund`, { id: payment.id });
    return this.deps.checkoutPolicy.execute(
      (attempt) =>
        this.deps.checkout.refundCapture(
          {
            paymentId: payment.id,
            refundId: refund.id,
            captureId: capture.id,
            currency: payment.currency,
            amount: refund.amount,
          },
          attempt,
        ),
      'refund',
    );
  }

  async byIds(ids: readonly string[]): Promise<PaymentRow[]> {
    const valid = ids.filter(isUuid);
    return valid.length ? this.deps.db.select().from(payments).where(inArray(payments.id, valid)) : [];
  }

  /** The latest payment of each listing, in one query. */
  async latestByListings(listingIds: readonly string[]): Promise<Map<string, PaymentRow>> {
    const valid = [...new Set(listingIds.filter(isUuid))];
    const out = new Map<string, PaymentRow>();
    if (!valid.length) return out;
    const rows = await this.deps.db
      .selectDistinctOn([payments.listingId])
      .from(payments)
      .where(inArray(payments.listingId, valid))
      .orderBy(payments.listingId, desc(payments.createdAt), desc(payments.id));
    for (const row of rows) out.set(row.listingId, row);
    return out;
  }

  /**
   * Pages of several users' payments, newest first, in one query (row_number per user); keys that
   * share `limit` and `after` are batched together by the loader. Each page has up to limit + 1
   * rows: the extra one only tells that a next page exists.
   */
  async pagesByUsers(
    userIds: readonly string[],
    limit: number,
    after?: { createdAt: Date; id: string },
  ): Promise<Map<string, PaymentRow[]>> {
    const valid = [...new Set(userIds.filter(isUuid))];
    const pages = new Map<string, PaymentRow[]>();
    if (valid.length === 0) return pages;
    const ranked = this.deps.db
      .select({
        ...getTableColumns(payments),
        rn: sql<number>`row_number() over (partition by ${payments.userId} order by ${payments.createdAt} desc, ${payments.id} desc)`.as(
          'rn',
        ),
      })
      .from(payments)
      .where(
        and(inArray(payments.userId, valid), after ? keysetAfter(payments.createdAt, payments.id, after) : undefined),
      )
      .as('ranked');
    const rows = await this.deps.db
      .select()
      .from(ranked)
      .where(lte(ranked.rn, limit + 1))
      .orderBy(ranked.userId, desc(ranked.createdAt), desc(ranked.id));
    for (const { rn: _rn, ...row } of rows) {
      const list = pages.get(row.userId) ?? [];
      list.push(row as PaymentRow);
      pages.set(row.userId, list);
    }
    return pages;
  }

  /** Net spend per user and currency (charged minus refunded), in one query. */
  async totalsByUsers(userIds: readonly string[]): Promise<Map<string, Array<{ amount: number; currency: string }>>> {
    const valid = [...new Set(userIds.filter(isUuid))];
    const out = new Map<string, Array<{ amount: number; currency: string }>>();
    if (!valid.length) return out;
    const rows = await this.deps.db
      .select({
        userId: payments.userId,
        currency: payments.currency,
        total: sql<string>`sum(${payments.amount} - ${payments.amountRefunded})`,
      })
      .from(payments)
      .where(
        and(inArray(payments.userId, valid), inArray(payments.status, ['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'])),
      )
      .groupBy(payments.userId, payments.currency);
    for (const row of rows)
      out.set(row.userId, [...(out.get(row.userId) ?? []), { amount: Number(row.total), currency: row.currency }]);
    return out;
  }

  private async byClientKey(userId: string, key: string): Promise<PaymentRow | undefined> {
    const [row] = await this.deps.db
      .select()
      .from(payments)
      .where(and(eq(payments.userId, userId), eq(payments.clientIdempotencyKey, key)));
    return row;
  }

  private async findForProvider(paymentId: string | undefined, reference: string): Promise<PaymentRow | undefined> {
    const [row] = await this.deps.db
      .select()
      .from(payments)
      .where(paymentId && isUuid(paymentId) ? eq(payments.id, paymentId) : eq(payments.providerReference, reference));
    return row;
  }
}

/** A PayPal checkout the payer cancelled (cancelCheckout): DECLINED with this code. */
export const CANCELLED = 'cancelled';

/** A PayPal capture of another amount than was priced: held for review, never a success. */
export const AMOUNT_MISMATCH = 'amount_mismatch';

/** The PayPal refund of a cancelled checkout's capture (refundIfCancelled): one per payment. */
const cancelledRefundKey = (paymentId: string) => `saypro-refund-${paymentId}-cancelled`;

const autoRefundKey = (paymentId: string) => `saypro-auto-refund-${paymentId}`;

function signedIn(viewer: Viewer): string {
  const userId = viewer.userId;
  if (userId === null || !isUuid(userId)) throw new ForbiddenError('Sign in to pay for a listing');
  return userId;
}

/** A new PENDING attempt, with the provider key every attempt will reuse. */
function newPayment(input: {
  listingId: string;
  userId: string;
  fee: { amount: number; currency: string };
  key: string;
  provider: PaymentProvider;
  paymentMethodId: string;
}): PaymentRow {
  const id = randomUUID();
  const now = new Date();
  return {
    id,
    listingId: input.listingId,
    userId: input.userId,
    amount: input.fee.amount,
    currency: input.fee.currency,
    paymentMethodId: input.paymentMethodId,
    status: 'PENDING',
    provider: input.provider,
    clientIdempotencyKey: input.key,
    providerIdempotencyKey: `saypro-payment-${id}`,
    providerReference: null,
    declineCode: null,
    declineMessage: null,
    amountRefunded: 0,
    attempts: 0,
    createdAt: now,
    updatedAt: now,
    succeededAt: null,
  };
}

/** The PayPal order for a payment, from its row alone: every attempt sends the same order. */
export function checkoutRequestFor(row: PaymentRow, publicUrl: string): CheckoutRequest {
  const back = (page: string) => {
    const url = new URL(`/paypal/${page}`, publicUrl);
    url.searchParams.set('payment', row.id);
    url.searchParams.set('listing', row.listingId);
    return url.toString();
  };
  return {
    paymentId: row.id,
    amount: row.amount,
    currency: row.currency,
    description: `SayPro posting fee for listing ${row.listingId}`,
    returnUrl: back('return'),
    cancelUrl: back('cancel'),
    reference: row.listingId,
  };
}

/**
 * What a PayPal order means for our payment. Gone (null): never approved and expired, so the
 * listing is free again. A capture for another amount than the priced fee is never a success.
 */
export function settlementOf(
  row: Pick<PaymentRow, 'amount' | 'currency'>,
  order: CheckoutOrderState | null,
): SettleState {
  if (!order)
    return {
      status: 'DECLINED',
      declineCode: 'order_expired',
      declineMessage: 'The PayPal checkout was not approved in time; start a new one.',
    };
  const reference = order.orderId;
  if (order.status !== 'completed' || !order.capture) return { status: 'REQUIRES_ACTION', reference };
  const { capture } = order;
  // A declined capture took nothing, whatever its amount: the listing is free again.
  if (capture.status === 'declined')
    return {
      status: 'DECLINED',
      reference,
      declineCode: 'capture_declined',
      declineMessage: 'PayPal declined the payment.',
    };
  if (capture.amount !== row.amount || capture.currency !== row.currency) {
    return {
      status: 'PROCESSING',
      reference,
      declineCode: AMOUNT_MISMATCH,
      declineMessage: `captured ${capture.amount} ${capture.currency}, priced ${row.amount} ${row.currency}`,
    };
  }
  if (capture.status === 'pending') return { status: 'PROCESSING', reference };
  return { status: 'SUCCEEDED', reference, amountRefunded: capture.amountRefunded };
}

/** A PayPal failure the policy did not already turn into PROVIDER_UNAVAILABLE, in our codes. */
function appErrorOf(err: unknown): unknown {
  if (!(err instanceof CheckoutError)) return err;
  if (err.kind === 'conflict') return new ConflictError(`PayPal refused it: ${err.message}`);
  if (err.kind === 'not_found') return new NotFoundError('PayPal order', err.details.issue ?? 'unknown');
  // Our credentials or our request: nothing the client can fix; PayPal is unusable until we do.
  return new ProviderUnavailableError('paypal', 60, err);
}

/**
 * The provider request for a payment, derived from its row alone: every attempt, resume and
 * reconciliation sends exactly the same parameters with the same key, as the provider requires.
 */
export function chargeRequestFor(row: PaymentRow): ChargeRequest {
  return {
    amount: row.amount,
    currency: row.currency,
    paymentMethodId: row.paymentMethodId,
    description: `SayPro posting fee for listing ${row.listingId}`,
    metadata: { payment_id: row.id, listing_id: row.listingId, user_id: row.userId },
    idempotencyKey: row.providerIdempotencyKey,
  };
}

function stateOf(outcome: ChargeOutcome) {
  switch (outcome.kind) {
    case 'succeeded':
      return { status: 'SUCCEEDED' as const, reference: outcome.reference };
    case 'processing':
      return { status: 'PROCESSING' as const, reference: outcome.reference };
    case 'requires_action':
      return { status: 'REQUIRES_ACTION' as const, reference: outcome.reference };
    case 'declined':
      return {
        status: 'DECLINED' as const,
        reference: outcome.reference,
        declineCode: outcome.code,
        declineMessage: outcome.message,
      };
  }
}

function fromProviderState(state: PaymentState) {
  const status: PaymentStatus =
    state.status === 'succeeded'
      ? 'SUCCEEDED'
      : state.status === 'processing'
        ? 'PROCESSING'
        : state.status === 'requires_action'
          ? 'REQUIRES_ACTION'
          : 'DECLINED';
  return {
    status,
    reference: state.reference,
    declineCode: state.declineCode ?? null,
    declineMessage: state.declineMessage ?? null,
    amountRefunded: state.amountRefunded,
  };
}
