import { newId, nowSeconds, randomToken } from './ids';
import type { PaymentMethod, StripeStore } from './types';

export type CardOutcome =
  | { kind: 'succeed' }
  | {
      kind: 'decline';
      code: string;
      declineCode: string;
      message: string;
      /** Which card field Stripe blames, when it blames one. */
      param?: string;
    }
  /** 3-D Secure: `redirect` is the classic challenge, `fingerprint` the 3DS2 device check. */
  | { kind: 'authenticate'; flow: 'redirect' | 'fingerprint' };

export interface TestCard {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit' | 'prepaid';
  outcome: CardOutcome;
}

const DECLINED = 'Your card was declined.';
const succeed: CardOutcome = { kind: 'succeed' };
const declined = (declineCode: string, message = DECLINED): CardOutcome => ({
  kind: 'decline',
  code: 'card_declined',
  declineCode,
  message,
});

/** Stripe's test PaymentMethods (https://docs.stripe.com/testing) and what confirming with them does. */
export const TEST_CARDS: Readonly<Record<string, TestCard>> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit', outcome: succeed },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', funding: 'debit', outcome: succeed },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit', outcome: succeed },
  pm_card_mastercard_debit: { brand: 'mastercard', last4: '8210', funding: 'debit', outcome: succeed },
  pm_card_mastercard_prepaid: { brand: 'mastercard', last4: '5100', funding: 'prepaid', outcome: succeed },
  pm_card_amex: { brand: 'amex', last4: '8431', funding: 'credit', outcome: succeed },
  pm_card_discover: { brand: 'discover', last4: '1117', funding: 'credit', outcome: succeed },
  pm_card_diners: { brand: 'diners', last4: '0004', funding: 'credit', outcome: succeed },
  pm_card_jcb: { brand: 'jcb', last4: '0505', funding: 'credit', outcome: succeed },
  pm_card_unionpay: { brand: 'unionpay', last4: '0005', funding: 'credit', outcome: succeed },
  pm_card_visa_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    funding: 'credit',
    outcome: declined('generic_decline'),
  },
  pm_card_visa_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    funding: 'credit',
    outcome: declined('insufficient_funds', 'Your card has insufficient funds.'),
  },
  pm_card_visa_chargeDeclinedLostCard: {
    brand: 'visa',
    last4: '9987',
    funding: 'credit',
    outcome: declined('lost_card'),
  },
  pm_card_visa_chargeDeclinedStolenCard: {
    brand: 'visa',
    last4: '9979',
    funding: 'credit',
    outcome: declined('stolen_card'),
  },
  pm_card_visa_chargeDeclinedFraudulent: {
    brand: 'visa',
    last4: '0019',
    funding: 'credit',
    outcome: declined('fraudulent'),
  },
  pm_card_chargeDeclinedExpiredCard: {
    brand: 'visa',
    last4: '0069',
    funding: 'credit',
    outcome: {
      kind: 'decline',
      code: 'expired_card',
      declineCode: 'expired_card',
      message: 'Your card has expired.',
      param: 'exp_month',
    },
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: 'visa',
    last4: '0127',
    funding: 'credit',
    outcome: {
      kind: 'decline',
      code: 'incorrect_cvc',
      declineCode: 'incorrect_cvc',
      message: "Your card's security code is incorrect.",
      param: 'cvc',
    },
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    funding: 'credit',
    outcome: {
      kind: 'decline',
      code: 'processing_error',
      declineCode: 'processing_error',
      message: 'An error occurred while processing your card. Try again in a little bit.',
    },
  },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3184',
    funding: 'credit',
    outcome: { kind: 'authenticate', flow: 'redirect' },
  },
  pm_card_threeDSecure2Required: {
    brand: 'visa',
    last4: '3220',
    funding: 'credit',
    outcome: { kind: 'authenticate', flow: 'fingerprint' },
  },
};

/** Any other `pm_card_*` name behaves like a plain Visa. */
export const cardFor = (name: string): TestCard => TEST_CARDS[name] ?? TEST_CARDS.pm_card_visa;

/**
 * Paying with `pm_card_visa` makes Stripe create a fresh PaymentMethod (`pm_1…`) from the test
 * card; the PaymentIntent points at that one, not at the magic name.
 */
export function createTestPaymentMethod(store: StripeStore, name: string): PaymentMethod {
  const card = cardFor(name);
  const now = new Date();
  const method: PaymentMethod = {
    id: newId('pm'),
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: { address: null, email: null, name: null, phone: null },
    card: {
      brand: card.brand,
      country: 'US',
      exp_month: now.getUTCMonth() + 1,
      exp_year: now.getUTCFullYear() + 1,
      fingerprint: randomToken(16),
      funding: card.funding,
      last4: card.last4,
    },
    created: nowSeconds(),
    customer: null,
    customer_account: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
  store.paymentMethods.set(method.id, method);
  store.testCards.set(method.id, name);
  return method;
}
