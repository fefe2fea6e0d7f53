import { formatAmount } from './currencies';
import { invalidRequest, resourceMissing } from './errors';
import type { FormObject } from './form';
import { newId, nowSeconds } from './ids';
import {
  expandParam,
  listOptions,
  metadataParam,
  optionalEnum,
  optionalInteger,
  optionalNonEmpty,
  paginate,
  rejectUnknown,
} from './params';
import { renderIntent } from './payment-intents';
import type { ApiContext, ApiResult, Charge, Refund, StripeStore } from './types';

const CREATE_PARAMS = [
  'amount',
  'charge',
  'currency',
  'customer',
  'expand',
  'instructions_email',
  'metadata',
  'origin',
  'payment_intent',
  'reason',
  'refund_application_fee',
  'reverse_transfer',
];
const EXPANDABLE = ['charge', 'payment_intent'] as const;
const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

function render(store: StripeStore, refund: Refund, expand: readonly string[]): unknown {
  const copy: Record<string, unknown> = structuredClone(refund) as unknown as Record<string, unknown>;
  if (expand.includes('charge')) copy.charge = structuredClone(store.charges.get(refund.charge) ?? null);
  if (expand.includes('payment_intent')) {
    const intent = store.paymentIntents.get(refund.payment_intent);
    copy.payment_intent = intent ? renderIntent(store, intent) : null;
  }
  return copy;
}

/** The charge a refund applies to, named directly or as the PaymentIntent's successful charge. */
function chargeToRefund(store: StripeStore, intentId: string | undefined, chargeId: string | undefined): Charge {
  if (chargeId) {
    const charge = store.charges.get(chargeId);
    if (!charge) throw resourceMissing('charge', chargeId, 'charge', 400);
    if (intentId && charge.payment_intent !== intentId) {
      throw invalidRequest(`Charge ${chargeId} does not belong to PaymentIntent ${intentId}.`, { param: 'charge' });
    }
    if (charge.status !== 'succeeded')
      throw invalidRequest(`The charge ${chargeId} has failed and cannot be refunded.`, {
        param: 'charge',
        saved: true,
      });
    return charge;
  }
  if (!intentId)
    throw invalidRequest('One of the following params should be provided for this request: payment_intent or charge.');
  const intent = store.paymentIntents.get(intentId);
  if (!intent) throw resourceMissing('payment_intent', intentId, 'payment_intent', 400);
  const latest = typeof intent.latest_charge === 'string' ? store.charges.get(intent.latest_charge) : undefined;
  if (intent.status !== 'succeeded' || !latest || latest.status !== 'succeeded') {
    throw invalidRequest(`This PaymentIntent (${intentId}) does not have a successful charge to refund.`, {
      saved: true,
    });
  }
  return latest;
}

export function createRefund(ctx: ApiContext, params: FormObject): ApiResult {
  rejectUnknown(params, CREATE_PARAMS);
  const expand = expandParam(params, EXPANDABLE);
  const requested = optionalInteger(params, 'amount', 1);
  const reason = optionalEnum(params, 'reason', REASONS) ?? null;
  const metadata = metadataParam(params);
  const charge = chargeToRefund(
    ctx.store,
    optionalNonEmpty(params, 'payment_intent'),
    optionalNonEmpty(params, 'charge'),
  );
  if (charge.refunded) {
    throw invalidRequest(`Charge ${charge.id} has already been refunded.`, {
      code: 'charge_already_refunded',
      saved: true,
    });
  }
  const remaining = charge.amount_captured - charge.amount_refunded;
  const amount = requested ?? remaining;
  if (amount > remaining) {
    throw invalidRequest(
      `Refund amount (${formatAmount(amount, charge.currency)}) is greater than unrefunded amount on charge (${formatAmount(remaining, charge.currency)})`,
      { param: 'amount', saved: true },
    );
  }
  const refund: Refund = {
    id: newId('re'),
    object: 'refund',
    amount,
    balance_transaction: newId('txn'),
    charge: charge.id,
    created: nowSeconds(),
    currency: charge.currency,
    customer: charge.customer,
    customer_account: null,
    destination_details: {
      card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
      type: 'card',
    },
    metadata,
    payment_intent: charge.payment_intent,
    payment_method: charge.payment_method,
    reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: 'succeeded',
    transfer_reversal: null,
  };
  ctx.store.refunds.set(refund.id, refund);
  const previous = { amount_refunded: charge.amount_refunded, refunded: charge.refunded };
  charge.amount_refunded += amount;
  charge.refunded = charge.amount_refunded >= charge.amount_captured;
  // Stripe lists only what changed in previous_attributes.
  ctx.emit(
    'charge.refunded',
    charge,
    charge.refunded === previous.refunded ? { amount_refunded: previous.amount_refunded } : previous,
  );
  return { status: 200, body: render(ctx.store, refund, expand) };
}

export function retrieveRefund(ctx: ApiContext, id: string, query: FormObject): ApiResult {
  rejectUnknown(query, ['expand']);
  const expand = expandParam(query, EXPANDABLE);
  const refund = ctx.store.refunds.get(id);
  if (!refund) throw resourceMissing('refund', id, 'id');
  return { status: 200, body: render(ctx.store, refund, expand) };
}

export function listRefunds(ctx: ApiContext, query: FormObject): ApiResult {
  rejectUnknown(query, ['charge', 'created', 'ending_before', 'expand', 'limit', 'payment_intent', 'starting_after']);
  const intent = optionalNonEmpty(query, 'payment_intent');
  const charge = optionalNonEmpty(query, 'charge');
  const all = [...ctx.store.refunds.values()]
    .reverse()
    .filter((refund) => (!intent || refund.payment_intent === intent) && (!charge || refund.charge === charge));
  return { status: 200, body: paginate(all, listOptions(query), '/v1/refunds', 'refund') };
}
