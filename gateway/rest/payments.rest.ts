import { randomUUID } from 'node:crypto';
import { HttpError } from '../../lib/http';
import { requiredString, type RestOperation } from './rest-route';

/**
 * The seed's payment endpoints. Field names follow the seed document (snake_case); the amount is
 * the listing's posting fee, priced on the server: a client amount that differs is refused.
 */
const CHARGE = `mutation SeedCharge($input: ChargeListingInput!) {
  chargeListing(input: $input) { status transactionId amount currency paymentStatus declineCode declineMessage clientSecret listing { id } }
}`;

const TRANSACTION = `query SeedTransactionStatus($id: ID!) {
  transaction(id: $id) { id status amount { amount currency } amountRefunded { amount } declineCode declineMessage createdAt succeededAt listing { id status } }
}`;

const lower = (s: string) => s.toLowerCase();
const optionalInt = (value: unknown, field: string): number | undefined => {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value)) throw new HttpError(400, `${field} must be an integer (minor units)`, 'BAD_USER_INPUT', field);
  return value;
};

export const paymentsRest: Record<string, RestOperation> = {
  /** POST /payments/charge { listing_id, payment_method_id, idempotency_key?, amount?, currency? } (or an Idempotency-Key header). */
  '/payments/charge': {
    method: 'POST',
    query: CHARGE,
    variables: ({ body, headers }) => {
      const headerKey = typeof headers['idempotency-key'] === 'string' ? headers['idempotency-key'] : undefined;
      const currency = body.currency;
      if (currency !== undefined && typeof currency !== 'string') throw new HttpError(400, 'currency must be a string', 'BAD_USER_INPUT', 'currency');
      return {
        input: {
          listingId: requiredString(body.listing_id, 'listing_id'),
          paymentMethodId: requiredString(body.payment_method_id, 'payment_method_id'),
          // Without a key a retried request could not be recognised; one is made per request then.
          idempotencyKey: typeof body.idempotency_key === 'string' ? body.idempotency_key : (headerKey ?? `rest-${randomUUID()}`),
          ...(optionalInt(body.amount, 'amount') !== undefined ? { amount: body.amount } : {}),
          ...(currency !== undefined ? { currency } : {}),
        },
      };
    },
    respond: (data: { chargeListing: Record<string, any> }) => {
      const c = data.chargeListing;
      return {
        status: c.status === 'SUCCEEDED' ? 'success' : lower(c.status),
        transaction_id: c.transactionId,
        amount: c.amount,
        currency: c.currency,
        payment_status: c.status === 'SUCCEEDED' ? 'completed' : lower(c.paymentStatus),
        listing_id: c.listing.id,
        ...(c.declineCode ? { decline_code: c.declineCode, decline_message: c.declineMessage } : {}),
        ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      };
    },
  },
  /** GET /payments/transaction-status?transaction_id=… */
  '/payments/transaction-status': {
    method: 'GET',
    query: TRANSACTION,
    variables: ({ query }) => ({ id: requiredString(query.get('transaction_id') ?? undefined, 'transaction_id') }),
    subject: 'transaction',
    renames: { id: 'transaction_id' },
    respond: (data: { transaction: Record<string, any> | null }) => {
      const t = data.transaction;
      if (!t) return null;
      return {
        transaction_id: t.id,
        payment_status: t.status === 'SUCCEEDED' ? 'completed' : lower(t.status),
        amount: t.amount.amount,
        currency: t.amount.currency,
        amount_refunded: t.amountRefunded.amount,
        listing_id: t.listing?.id ?? null,
        listing_status: t.listing?.status ?? null,
        created_at: t.createdAt,
        succeeded_at: t.succeededAt,
        ...(t.declineCode ? { decline_code: t.declineCode, decline_message: t.declineMessage } : {}),
      };
    },
  },
};
