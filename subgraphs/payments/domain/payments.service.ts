import { metrics } from '../../../lib/metrics';
import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, inArray, lt, lte, sql } from 'drizzle-orm';
import type { Viewer } from '../../../lib/auth';
import { authorize } from '../../../lib/permissions';
import { postingFee, type FeeConfig } from '../../../lib/config';
import type { Database, Transaction } from '../../../lib/db';
import {
  BadUserInputError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
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
import { payments, refunds, webhookEvents, type PaymentRow, type PaymentStatus } from '../db/schema';
import {
  PaymentRequestRejectedError,
  type ChargeOutcome,
  type ChargeRequest,
  type PaymentGateway,
  type PaymentState,
  type ProviderEvent,
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

export interface RequestMeta {
  requestId?: string;
}

export interface PaymentsDeps {
  db: Database;
  bus: EventBus;
  gateway: PaymentGateway;
  policy: ProviderPolicy;
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
    const userId = viewer.userId;
    if (userId === null || !isUuid(userId)) throw new ForbiddenError('Sign in to pay for a listing');

    const existing = await this.byClientKey(userId, input.idempotencyKey);
    if (existing) return this.replay(existing, input, meta);

    const listing = await this.deps.listings.get(input.listingId, viewer, meta.requestId);
    if (!listing) throw new NotFoundError('Listing', input.listingId);
    authorize(viewer, 'payment.charge', listing.sellerId);
    if (listing.status !== 'PENDING_PAYMENT') {
      throw new ConflictError(`Listing ${listing.id} is ${listing.status}; only a listing waiting for payment can be charged`, { id: listing.id });
    }
    const fee = postingFee(this.deps.config, listing.category);
    if (fee.amount <= 0) throw new ConflictError(`Listings in ${listing.category} are free`, { id: listing.id });
    if (input.amount != null && input.amount !== fee.amount) {
      throw new BadUserInputError({ field: 'amount', message: `amount must be the posting fee, ${fee.amount} (${fee.currency} minor units); nothing was charged` }, 'input');
    }
    if (input.currency != null && input.currency.toUpperCase() !== fee.currency) {
      throw new BadUserInputError({ field: 'currency', message: `currency must be ${fee.currency}; nothing was charged` }, 'input');
    }

    const id = randomUUID();
    const now = new Date();
    const row: PaymentRow = {
      id,
      listingId: listing.id,
      userId,
      amount: fee.amount,
      currency: fee.currency,
      paymentMethodId: input.paymentMethodId,
      status: 'PENDING',
      clientIdempotencyKey: input.idempotencyKey,
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
    try {
      await this.deps.db.insert(payments).values(row);
    } catch (err) {
      if (pgErrorCode(err) !== PG_UNIQUE_VIOLATION) throw err;
      const constraint = pgConstraint(err);
      if (constraint === KEY_PER_USER) {
        const winner = await this.byClientKey(userId, input.idempotencyKey);
        if (winner) return this.replay(winner, input, meta);
      }
      if (constraint === LIVE_PER_LISTING) {
        const [live] = await this.deps.db
          .select({ id: payments.id, status: payments.status })
          .from(payments)
          .where(and(eq(payments.listingId, listing.id), inArray(payments.status, ['PENDING', 'PROCESSING', 'REQUIRES_ACTION', 'SUCCEEDED', 'PARTIALLY_REFUNDED'])));
        throw new ConflictError(`Listing ${listing.id} already has a payment (${live?.status ?? 'in progress'}); it is not charged again`, { id: live?.id });
      }
      throw err;
    }
    return this.execute(row, meta);
  }

  /** The same client key again: the same answer, or the unfinished attempt carried on with the same provider key. */
  private async replay(existing: PaymentRow, input: ChargeInput, meta: RequestMeta): Promise<ChargeResult> {
    if (existing.listingId !== input.listingId || existing.paymentMethodId !== input.paymentMethodId) {
      throw new BadUserInputError({ field: 'idempotencyKey', message: 'idempotencyKey was already used for a different charge' }, 'input');
    }
    if (existing.status === 'PENDING') return this.execute(existing, meta);
    return { payment: existing, clientSecret: null };
  }

  /** Calls the provider for a PENDING payment (first time or resumed) and settles the answer. */
  private async execute(row: PaymentRow, meta: RequestMeta): Promise<ChargeResult> {
    try {
      const result = await this.attemptCharge(row, meta);
      metrics.charges.inc({ outcome: result.clientSecret ? 'requires_action' : result.payment.status === 'SUCCEEDED' ? 'succeeded' : result.payment.status === 'DECLINED' ? 'declined' : 'pending' });
      return result;
    } catch (err) {
      metrics.charges.inc({ outcome: err instanceof ProviderUnavailableError ? 'unavailable' : err instanceof BadUserInputError ? 'declined' : 'failed' });
      throw err;
    }
  }

  private async attemptCharge(row: PaymentRow, meta: RequestMeta): Promise<ChargeResult> {
    let outcome: ChargeOutcome;
    try {
      outcome = await this.deps.policy.execute(async (attempt) => {
        await this.deps.db.update(payments).set({ attempts: sql`${payments.attempts} + 1` }).where(eq(payments.id, row.id));
        return this.deps.gateway.charge(
          chargeRequestFor(row),
          attempt,
        );
      }, 'charge');
    } catch (err) {
      if (err instanceof PaymentRequestRejectedError) {
        // The provider refused the request itself (e.g. an unknown payment method): nothing was charged.
        const settled = await this.settle(row.id, { status: 'DECLINED', declineCode: 'invalid_request', declineMessage: err.message }, meta);
        if (err.param === 'payment_method') throw new BadUserInputError({ field: 'paymentMethodId', message: `paymentMethodId was refused: ${err.message}` }, 'input');
        return { payment: settled, clientSecret: null };
      }
      if (err instanceof ProviderUnavailableError) {
        this.deps.logger.warn({ paymentId: row.id, reqId: meta.requestId }, 'charge outcome unknown: left PENDING for retry and reconciliation');
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
      const outcome = await this.deps.listings.activatePaid(payment.listingId, { amount: payment.amount, currency: payment.currency }, meta.requestId);
      this.deps.logger.info({ paymentId: payment.id, listingId: payment.listingId, outcome, reqId: meta.requestId }, 'listing activated with the charge');
    } catch (err) {
      this.deps.logger.warn({ paymentId: payment.id, listingId: payment.listingId, error: (err as Error)?.message, reqId: meta.requestId }, 'listing not activated with the charge; payment.succeeded will');
    }
  }

  /**
   * Moves a payment forward to what the provider says, in one transaction with the event it causes.
   * Stale or repeated answers change nothing.
   */
  async settle(
    paymentId: string,
    state: { status: PaymentStatus; reference?: string | null; declineCode?: string | null; declineMessage?: string | null; amountRefunded?: number },
    meta: RequestMeta = {},
    tx?: Transaction,
  ): Promise<PaymentRow> {
    const work = async (t: Transaction): Promise<PaymentRow> => {
      const [current] = await t.select().from(payments).where(eq(payments.id, paymentId)).for('update');
      if (!current) throw new NotFoundError('Transaction', paymentId);
      let next = state.status;
      if (state.amountRefunded !== undefined && state.amountRefunded > current.amountRefunded && ['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(current.status)) {
        next = refundedStatus(current.amount, state.amountRefunded);
      }
      if (!canMove(current.status, next) || (next === current.status && (state.amountRefunded ?? current.amountRefunded) <= current.amountRefunded)) {
        return current;
      }
      const now = new Date();
      const [updated] = await t
        .update(payments)
        .set({
          status: next,
          updatedAt: now,
          ...(state.reference ? { providerReference: state.reference } : {}),
          ...(next === 'DECLINED' ? { declineCode: state.declineCode ?? 'declined', declineMessage: state.declineMessage ?? null } : {}),
          ...(next === 'SUCCEEDED' ? { succeededAt: now } : {}),
          ...(state.amountRefunded !== undefined && state.amountRefunded > current.amountRefunded ? { amountRefunded: state.amountRefunded } : {}),
        })
        .where(eq(payments.id, paymentId))
        .returning();
      const p = updated!;
      const base = { paymentId: p.id, listingId: p.listingId, userId: p.userId };
      if (next === 'SUCCEEDED' && current.status !== 'SUCCEEDED') {
        metrics.chargedAmount.inc({ currency: p.currency }, p.amount);
        await this.deps.bus.publish(t, 'payment.succeeded', { ...base, amount: p.amount, currency: p.currency, providerReference: p.providerReference ?? '' }, meta);
      } else if (next === 'DECLINED') {
        await this.deps.bus.publish(t, 'payment.failed', { ...base, code: p.declineCode ?? 'declined', message: p.declineMessage ?? '' }, meta);
      } else if (next === 'REFUNDED' || next === 'PARTIALLY_REFUNDED') {
        metrics.refunds.inc({ outcome: 'succeeded' });
        await this.deps.bus.publish(t, 'payment.refunded', { ...base, amountRefunded: p.amountRefunded, fullyRefunded: next === 'REFUNDED' }, meta);
      }
      this.deps.logger.info({ paymentId, from: current.status, to: next, reqId: meta.requestId }, 'payment settled');
      return p;
    };
    return tx ? work(tx) : this.deps.db.transaction(work);
  }

  /**
   * A verified provider webhook: deduplicated by event id, and reconciled by reading the payment's
   * current state from the provider (events arrive late, twice and out of order).
   */
  async handleProviderEvent(event: ProviderEvent): Promise<'processed' | 'duplicate' | 'ignored'> {
    const [seen] = await this.deps.db.select({ id: webhookEvents.id }).from(webhookEvents).where(eq(webhookEvents.id, event.id));
    if (seen) return 'duplicate';
    const record = (t: Transaction, type: string) =>
      t.insert(webhookEvents).values({ id: event.id, type, receivedAt: new Date() }).onConflictDoNothing().returning({ id: webhookEvents.id });
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
        this.deps.logger.warn({ reference: event.reference, eventId: event.id }, 'provider event for a payment we do not know');
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
      .where(and(inArray(payments.status, [...UNSETTLED]), lt(payments.updatedAt, cutoff)))
      .limit(50);
    let settled = 0;
    for (const row of open) {
      try {
        if (row.status === 'PENDING') await this.execute(row, {});
        else if (row.providerReference) await this.settle(row.id, fromProviderState(await this.deps.policy.execute(() => this.deps.gateway.retrieve(row.providerReference!), 'retrieve')));
        settled++;
      } catch (err) {
        this.deps.logger.warn({ paymentId: row.id, err: (err as Error).message }, 'reconciliation attempt failed; will retry');
      }
    }
    return settled;
  }

  /** Admins refund all or part of a succeeded payment. */
  async refund(viewer: Viewer, paymentId: string, amount: number | null | undefined, meta: RequestMeta = {}): Promise<PaymentRow> {
    const [payment] = isUuid(paymentId) ? await this.deps.db.select({ userId: payments.userId }).from(payments).where(eq(payments.id, paymentId)) : [];
    authorize(viewer, 'payment.refund', payment?.userId); // before NOT_FOUND: a refused caller learns nothing about the id
    return this.refundWith({ paymentId, amount, key: `saypro-refund-${randomUUID()}`, requestedBy: viewer.userId }, meta);
  }

  /**
   * The payment reached a listing that can no longer go live: give all of it back. Keyed by the
   * payment, so running it again (a redelivered event, a crash) never refunds twice.
   */
  async autoRefund(paymentId: string, meta: RequestMeta = {}): Promise<PaymentRow | null> {
    const [payment] = isUuid(paymentId) ? await this.deps.db.select().from(payments).where(eq(payments.id, paymentId)) : [];
    if (!payment) return null;
    if (payment.status === 'REFUNDED') return payment;
    const [earlier] = await this.deps.db.select().from(refunds).where(eq(refunds.idempotencyKey, autoRefundKey(paymentId)));
    if (!earlier && !['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(payment.status)) return payment;
    this.deps.logger.warn({ paymentId, listingId: payment.listingId, reqId: meta.requestId }, 'refunding a payment for a listing that cannot go live');
    return this.refundWith({ paymentId, amount: earlier?.amount, key: autoRefundKey(paymentId), requestedBy: null }, meta);
  }

  private async refundWith(
    request: { paymentId: string; amount: number | null | undefined; key: string; requestedBy: string | null },
    meta: RequestMeta,
  ): Promise<PaymentRow> {
    const { paymentId } = request;
    const [payment] = isUuid(paymentId) ? await this.deps.db.select().from(payments).where(eq(payments.id, paymentId)) : [];
    if (!payment) throw new NotFoundError('Transaction', paymentId);
    let [row] = await this.deps.db.select().from(refunds).where(eq(refunds.idempotencyKey, request.key));
    if (row?.status === 'succeeded') return payment; // this very refund already happened
    if (!row) {
      if (!['SUCCEEDED', 'PARTIALLY_REFUNDED'].includes(payment.status) || !payment.providerReference) {
        throw new ConflictError(`Transaction ${paymentId} is ${payment.status} and cannot be refunded`, { id: paymentId });
      }
      const remaining = payment.amount - payment.amountRefunded;
      const value = request.amount ?? remaining;
      if (!Number.isInteger(value) || value <= 0 || value > remaining) {
        throw new BadUserInputError({ field: 'amount', message: `amount must be between 1 and ${remaining} (what is left to refund)` }, 'amount');
      }
      [row] = await this.deps.db
        .insert(refunds)
        .values({ id: randomUUID(), paymentId, amount: value, idempotencyKey: request.key, status: 'pending', requestedBy: request.requestedBy, createdAt: new Date() })
        .returning();
    }
    const refund = row!;
    let outcome;
    try {
      outcome = await this.deps.policy.execute((attempt) =>
        this.deps.gateway.refund({ reference: payment.providerReference!, amount: refund.amount, idempotencyKey: request.key }, attempt),
        'refund',
      );
    } catch (err) {
      metrics.refunds.inc({ outcome: err instanceof ProviderUnavailableError ? 'unavailable' : 'failed' });
      if (err instanceof PaymentRequestRejectedError) {
        await this.deps.db.update(refunds).set({ status: 'failed' }).where(eq(refunds.id, refund.id));
        throw new ConflictError(`The refund was refused: ${err.message}`, { id: paymentId });
      }
      throw err;
    }
    return this.deps.db.transaction(async (t) => {
      await t.update(refunds).set({ status: outcome.status, providerReference: outcome.reference }).where(eq(refunds.id, refund.id));
      const [current] = await t.select().from(payments).where(eq(payments.id, paymentId)).for('update');
      return this.settle(paymentId, { status: current!.status, amountRefunded: current!.amountRefunded + outcome.amount }, meta, t);
    });
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
  async pagesByUsers(userIds: readonly string[], limit: number, after?: { createdAt: Date; id: string }): Promise<Map<string, PaymentRow[]>> {
    const valid = [...new Set(userIds.filter(isUuid))];
    const pages = new Map<string, PaymentRow[]>();
    if (valid.length === 0) return pages;
    const ranked = this.deps.db
      .select({
        ...getTableColumns(payments),
        rn: sql<number>`row_number() over (partition by ${payments.userId} order by ${payments.createdAt} desc, ${payments.id} desc)`.as('rn'),
      })
      .from(payments)
      .where(
        and(
          inArray(payments.userId, valid),
          after ? keysetAfter(payments.createdAt, payments.id, after) : undefined,
        ),
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
      .select({ userId: payments.userId, currency: payments.currency, total: sql<string>`sum(${payments.amount} - ${payments.amountRefunded})` })
      .from(payments)
      .where(and(inArray(payments.userId, valid), inArray(payments.status, ['SUCCEEDED', 'PARTIALLY_REFUNDED', 'REFUNDED'])))
      .groupBy(payments.userId, payments.currency);
    for (const row of rows) out.set(row.userId, [...(out.get(row.userId) ?? []), { amount: Number(row.total), currency: row.currency }]);
    return out;
  }

  private async byClientKey(userId: string, key: string): Promise<PaymentRow | undefined> {
    const [row] = await this.deps.db.select().from(payments).where(and(eq(payments.userId, userId), eq(payments.clientIdempotencyKey, key)));
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

const autoRefundKey = (paymentId: string) => `saypro-auto-refund-${paymentId}`;

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
      return { status: 'DECLINED' as const, reference: outcome.reference, declineCode: outcome.code, declineMessage: outcome.message };
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
  return { status, reference: state.reference, declineCode: state.declineCode ?? null, declineMessage: state.declineMessage ?? null, amountRefunded: state.amountRefunded };
}
