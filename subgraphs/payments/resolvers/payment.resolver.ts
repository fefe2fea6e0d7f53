import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { Viewer } from '../../../lib/auth';
import { allows, ReadableBy } from '../../../lib/permissions';
import { NotFoundError } from '../../../lib/errors';
import { decodeCursor, encodeCursor, pageSize } from '../../../lib/pagination';
import { Money } from '../../../lib/shared-types';
import type { PaymentsContext } from '../context';
import type { PaymentRow } from '../db/schema';
import { ChargeListingInput, ChargeListingPayload } from '../entities/charge-payload';
import { ChargeStatus, PaymentStatus } from '../entities/enums';
import { Listing } from '../entities/listing';
import {
  CancelPayPalCheckoutInput,
  CapturePayPalCheckoutInput,
  PayPalCheckoutPayload,
  StartPayPalCheckoutInput,
} from '../entities/paypal-checkout';
import { Transaction, TransactionConnection, toTransaction } from '../entities/transaction';
import { User } from '../entities/user';

/** Payments are private: the payer, admins and API keys with payments:read see them. */
const maySee = (viewer: Viewer, row: { userId: string }) => allows(viewer, 'payment.read', row.userId);

const CHARGE_STATUS: Partial<Record<string, ChargeStatus>> = {
  SUCCEEDED: ChargeStatus.SUCCEEDED,
  DECLINED: ChargeStatus.DECLINED,
  REQUIRES_ACTION: ChargeStatus.REQUIRES_ACTION,
};

@Resolver()
export class PaymentResolver {
  @Mutation(() => ChargeListingPayload, {
    description:
      'Charges the posting fee of your listing that is waiting for payment (POST /payments/charge). On success the listing becomes ACTIVE. Retrying with the same idempotencyKey never charges twice.',
  })
  async chargeListing(
    @Arg('input', () => ChargeListingInput) input: ChargeListingInput,
    @Ctx() ctx: PaymentsContext,
  ): Promise<ChargeListingPayload> {
    const { payment, clientSecret } = await ctx.payments.charge(ctx.viewer, input, { requestId: ctx.requestId });
    return toPayload(payment, clientSecret);
  }

  @Mutation(() => PayPalCheckoutPayload, {
    description:
      "Starts paying your listing's posting fee with PayPal: creates a PayPal order for exactly the fee and answers its approval page. After the payer approves, call capturePayPalCheckout. The same idempotencyKey answers the same order. CONFLICT when the listing already has a live payment (card or PayPal).",
  })
  async startPayPalCheckout(
    @Arg('input', () => StartPayPalCheckoutInput) input: StartPayPalCheckoutInput,
    @Ctx() ctx: PaymentsContext,
  ): Promise<PayPalCheckoutPayload> {
    const { payment, approvalUrl } = await ctx.payments.startCheckout(ctx.viewer, input, { requestId: ctx.requestId });
    return { payment: toTransaction(payment), approvalUrl };
  }

  @Mutation(() => Transaction, {
    description:
      'Captures an approved PayPal checkout (call it when PayPal sends the payer back); on success the listing becomes ACTIVE. Calling it again answers the same capture. CONFLICT while the payer has not approved; PAYMENT_REQUIRED when PayPal declined their funding (approve again).',
  })
  async capturePayPalCheckout(
    @Arg('input', () => CapturePayPalCheckoutInput) input: CapturePayPalCheckoutInput,
    @Ctx() ctx: PaymentsContext,
  ): Promise<Transaction> {
    return toTransaction(await ctx.payments.captureCheckout(ctx.viewer, input, { requestId: ctx.requestId }));
  }

  @Mutation(() => Transaction, {
    description:
      "Cancels a PayPal checkout the payer turned down (call it from your page at PayPal's cancel URL): the payment becomes DECLINED (declineCode cancelled) and the listing may be paid again at once, by card or a new checkout, instead of when the order expires. Cancelling again answers the same. CONFLICT once the payer approved (capture it instead). Should PayPal capture it anyway, in the same instant, the capture is refunded in full.",
  })
  async cancelPayPalCheckout(
    @Arg('input', () => CancelPayPalCheckoutInput) input: CancelPayPalCheckoutInput,
    @Ctx() ctx: PaymentsContext,
  ): Promise<Transaction> {
    return toTransaction(await ctx.payments.cancelCheckout(ctx.viewer, input, { requestId: ctx.requestId }));
  }

  @Query(() => Transaction, {
    description:
      'One transaction by id (GET /payments/transaction-status). Only the payer and admins; NOT_FOUND for others.',
  })
  async transaction(@Arg('id', () => ID) id: string, @Ctx() ctx: PaymentsContext): Promise<Transaction> {
    const row = await ctx.loaders.payment.load(id);
    if (!maySee(ctx.viewer, row)) throw new NotFoundError('Transaction', id);
    return toTransaction(row);
  }

  @Mutation(() => Transaction, { description: 'Refunds all (amount omitted) or part of a payment. Admins only.' })
  async refundPayment(
    @Arg('transactionId', () => ID) transactionId: string,
    @Arg('amount', () => Int, { nullable: true, description: 'Minor units; the whole remaining amount when omitted.' })
    amount: number | null,
    @Ctx() ctx: PaymentsContext,
  ): Promise<Transaction> {
    return toTransaction(await ctx.payments.refund(ctx.viewer, transactionId, amount, { requestId: ctx.requestId }));
  }
}

@Resolver(() => Listing)
export class ListingPaymentResolver {
  @FieldResolver(() => Transaction, {
    nullable: true,
    description: "The listing's latest payment; visible to its seller and admins.",
  })
  async payment(@Root() listing: Listing, @Ctx() ctx: PaymentsContext): Promise<Transaction | null> {
    const row = await ctx.loaders.latestByListing.load(listing.id);
    return row && maySee(ctx.viewer, row) ? toTransaction(row) : null;
  }

  @FieldResolver(() => PaymentStatus, {
    nullable: true,
    description: "Status of the listing's latest payment; null when none was attempted or you may not see it.",
  })
  async paymentStatus(@Root() listing: Listing, @Ctx() ctx: PaymentsContext): Promise<PaymentStatus | null> {
    const row = await ctx.loaders.latestByListing.load(listing.id);
    return row && maySee(ctx.viewer, row) ? (row.status as PaymentStatus) : null;
  }
}

@Resolver(() => User)
export class UserPaymentsResolver {
  @ReadableBy<User>('payment.read', (user) => user.id)
  @FieldResolver(() => TransactionConnection, {
    nullable: true,
    description: "The user's payments, newest first; for the user and admins (null for others).",
  })
  async payments(
    @Root() user: User,
    @Ctx() ctx: PaymentsContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. @default 20' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor to continue after.' }) after?: string,
  ): Promise<TransactionConnection | null> {
    const limit = pageSize(first);
    if (after) decodeCursor(after); // a bad cursor is BAD_USER_INPUT before anything runs
    const rows = await ctx.loaders.userPayments.load({ userId: user.id, limit, after });
    const edges = rows.slice(0, limit).map((row) => ({ cursor: encodeCursor(row), node: toTransaction(row) }));
    return {
      edges,
      pageInfo: {
        hasNextPage: rows.length > limit,
        hasPreviousPage: Boolean(after),
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
    };
  }

  @ReadableBy<User>('payment.read', (user) => user.id)
  @FieldResolver(() => [Money], {
    nullable: true,
    description: 'What the user has paid, net of refunds, per currency; for the user and admins (null for others).',
  })
  async totalSpent(@Root() user: User, @Ctx() ctx: PaymentsContext): Promise<Money[] | null> {
    return ctx.loaders.totalsByUser.load(user.id);
  }
}

function toPayload(payment: PaymentRow, clientSecret: string | null): ChargeListingPayload {
  return {
    status: CHARGE_STATUS[payment.status] ?? ChargeStatus.PROCESSING,
    transactionId: payment.id,
    amount: payment.amount,
    currency: payment.currency,
    paymentStatus: payment.status as PaymentStatus,
    declineCode: payment.declineCode,
    declineMessage: payment.declineMessage,
    clientSecret,
    transaction: toTransaction(payment),
    listing: { id: payment.listingId },
  };
}
