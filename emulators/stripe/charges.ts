import { resourceMissing } from './errors';
import type { FormObject } from './form';
import { newId, nowSeconds, randomToken } from './ids';
import { expandParam, rejectUnknown } from './params';
import type { CardOutcome } from './test-cards';
import type { ApiContext, ApiResult, Charge, PaymentIntent, PaymentMethod } from './types';

type ChargeResult = { kind: 'succeed' } | Extract<CardOutcome, { kind: 'decline' }>;

/** The charge behind one payment attempt: Stripe creates one for failed attempts too. */
export function createCharge(
  ctx: ApiContext,
  intent: PaymentIntent,
  method: PaymentMethod,
  result: ChargeResult,
): Charge {
  const succeeded = result.kind === 'succeed';
  const charge: Charge = {
    id: newId('ch'),
    object: 'charge',
    amount: intent.amount,
    amount_captured: succeeded ? intent.amount : 0,
    amount_refunded: 0,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: succeeded ? newId('txn') : null,
    billing_details: { address: null, email: null, name: null, phone: null },
    calculated_statement_descriptor: (intent.statement_descriptor ?? 'SAYPRO EMULATOR').slice(0, 22),
    captured: succeeded,
    created: nowSeconds(),
    currency: intent.currency,
    customer: intent.customer,
    description: intent.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: succeeded ? null : result.code,
    failure_message: succeeded ? null : result.message,
    fraud_details: {},
    livemode: false,
    metadata: { ...intent.metadata },
    on_behalf_of: null,
    outcome: succeeded
      ? {
          network_status: 'approved_by_network',
          reason: null,
          risk_level: 'normal',
          seller_message: 'Payment complete.',
          type: 'authorized',
        }
      : {
          network_status: result.code === 'processing_error' ? 'not_sent_to_network' : 'declined_by_network',
          reason: result.declineCode,
          risk_level: 'normal',
          seller_message:
            result.declineCode === 'generic_decline'
              ? 'The bank did not return any further details with this decline.'
              : `The bank returned the decline code \`${result.declineCode}\`.`,
          type: 'issuer_declined',
        },
    paid: succeeded,
    payment_intent: intent.id,
    payment_method: method.id,
    payment_method_details: { card: { ...method.card, network: method.card.brand }, type: 'card' },
    receipt_email: intent.receipt_email,
    receipt_number: null,
    receipt_url: `https://pay.stripe.com/receipts/payment/${randomToken(64)}`,
    refunded: false,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: intent.statement_descriptor,
    statement_descriptor_suffix: intent.statement_descriptor_suffix,
    status: succeeded ? 'succeeded' : 'failed',
    transfer_data: null,
    transfer_group: intent.transfer_group,
  };
  ctx.store.charges.set(charge.id, charge);
  return charge;
}

const RETRIEVE_PARAMS = ['expand'];

export function retrieveCharge(ctx: ApiContext, id: string, query: FormObject): ApiResult {
  rejectUnknown(query, RETRIEVE_PARAMS);
  expandParam(query, []);
  const charge = ctx.store.charges.get(id);
  if (!charge) throw resourceMissing('charge', id, 'id');
  return { status: 200, body: charge };
}
