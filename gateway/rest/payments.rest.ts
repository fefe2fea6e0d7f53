import { randomUUID } from 'node:crypto';
import { z } from 'zod/v4';
import { restOperation, type RestOperation } from './rest-route';
import { dateTime, idempotencyHeaders, minorUnits, requiredText, restEnum } from './rest-schema';

/**
 * The seed's payment endpoints. Field names follow the seed document (snake_case); the amount is
 * the listing's posting fee, priced on the server: a client amount that differs is refused.
 */
const CHARGE = `mutation SeedCharge($input: ChargeListingInput!) {
  chargeListing(input: $input) { status transactionId amount currency paymentStatus declineCode declineMessage clientSecret listing { id } }
}`;

const TRANSACTION = `query SeedTransactionStatus($id: ID!) {
  transaction(id: $id) { id status provider amount { amount currency } amountRefunded { amount } declineCode declineMessage createdAt succeededAt listing { id status } }
}`;

const chargeStatus = restEnum(
  { name: 'ChargeStatus', renames: { SUCCEEDED: 'success' } },
  'The outcome of this attempt: `requires_action` means 3-D Secure (see client_secret).',
);
const paymentStatus = restEnum({ name: 'PaymentStatus', renames: { SUCCEEDED: 'completed' } }, 'Where the payment is.');
const listingStatus = restEnum(
  { name: 'ListingStatus', keepCase: true },
  "The listing's status, as the graph spells it (ACTIVE once paid).",
);
const decline = {
  decline_code: z
    .string()
    .optional()
    .meta({ description: "Stripe's decline code (`card_declined`, `expired_card`, …), when declined." }),
  decline_message: z
    .string()
    .nullable()
    .optional()
    .meta({ description: 'Why it was declined, in words a buyer can read.' }),
};

const charge = restOperation({
  method: 'POST',
  summary: "Pay a listing's posting fee",
  description:
    "Charges the listing's posting fee (priced on the server from its category) to a Stripe payment method, and activates the listing when the charge succeeds. " +
    'Send the same idempotency key to retry a charge: the same key never charges twice, and a key used for another charge is refused. Without a key, one is made per request.',
  permission: 'payment.charge',
  request: z.object({
    listing_id: requiredText('The listing to pay for (yours, waiting for payment).'),
    payment_method_id: requiredText('A Stripe payment method, e.g. `pm_card_visa`.'),
    idempotency_key: z
      .string()
      .optional()
      .meta({ description: 'Makes a retried request the same charge; the Idempotency-Key header does the same.' }),
    amount: minorUnits(
      'Optional check: the fee you expect, in minor units; a different amount is refused and nothing is charged.',
    ).nullish(),
    currency: z.string().nullish().meta({ description: "Optional check: the fee's currency (ISO 4217)." }),
  }),
  headers: idempotencyHeaders,
  response: z.object({
    status: chargeStatus.schema,
    transaction_id: z.string().meta({ description: 'Read it back with GET /payments/transaction-status.' }),
    amount: z.number().int().meta({ description: 'What was charged, in minor units.' }),
    currency: z.string(),
    payment_status: paymentStatus.schema,
    listing_id: z.string(),
    ...decline,
    client_secret: z
      .string()
      .optional()
      .meta({ description: 'For Stripe.js to complete 3-D Secure, when status is requires_action.' }),
  }),
  errors: ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PROVIDER_UNAVAILABLE'],
  document: CHARGE,
  variables: (body, headers) => ({
    input: {
      listingId: body.listing_id,
      paymentMethodId: body.payment_method_id,
      // Without a key a retried request could not be recognised; one is made per request then.
      idempotencyKey: body.idempotency_key ?? headers['idempotency-key'] ?? `rest-${randomUUID()}`,
      ...(body.amount != null ? { amount: body.amount } : {}),
      ...(body.currency != null ? { currency: body.currency } : {}),
    },
  }),
  respond: (data: { chargeListing: Record<string, any> }) => {
    const c = data.chargeListing;
    return {
      status: chargeStatus.rest(c.status),
      transaction_id: c.transactionId,
      amount: c.amount,
      currency: c.currency,
      payment_status: paymentStatus.rest(c.status === 'SUCCEEDED' ? 'SUCCEEDED' : c.paymentStatus),
      listing_id: c.listing.id,
      ...(c.declineCode ? { decline_code: c.declineCode, decline_message: c.declineMessage } : {}),
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
    };
  },
});

const transactionStatus = restOperation({
  method: 'GET',
  summary: 'Read a payment',
  description:
    'A payment of yours (or any, for an admin or an API key with payments:read): its status, amounts and listing.',
  permission: 'payment.read',
  request: z.object({ transaction_id: requiredText('The transaction_id a charge answered.') }),
  response: z.object({
    transaction_id: z.string(),
    payment_status: paymentStatus.schema,
    provider: z
      .enum(['stripe', 'paypal'])
      .meta({ description: 'Who took the payment: a card through Stripe, or PayPal.' }),
    amount: z.number().int().meta({ description: 'Charged, in minor units.' }),
    currency: z.string(),
    amount_refunded: z.number().int().meta({ description: 'Refunded so far, in minor units.' }),
    listing_id: z.string().nullable(),
    listing_status: listingStatus.schema.nullable(),
    created_at: dateTime('When the payment was recorded.'),
    succeeded_at: dateTime('When it succeeded.').nullable(),
    ...decline,
  }),
  errors: [],
  document: TRANSACTION,
  variables: (query) => ({ id: query.transaction_id }),
  subject: 'transaction',
  renames: { id: 'transaction_id' },
  respond: (data: { transaction: Record<string, any> | null }) => {
    const t = data.transaction;
    if (!t) return null;
    return {
      transaction_id: t.id,
      payment_status: paymentStatus.rest(t.status),
      provider: String(t.provider).toLowerCase() as 'stripe' | 'paypal',
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
});

export const paymentsRest: Record<string, RestOperation> = {
  '/payments/charge': charge,
  '/payments/transaction-status': transactionStatus,
};
