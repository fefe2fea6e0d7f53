import { registerEnumType } from 'type-graphql';

export enum PaymentStatus {
  PENDING = 'PENDING',
  PROCESSING = 'PROCESSING',
  REQUIRES_ACTION = 'REQUIRES_ACTION',
  SUCCEEDED = 'SUCCEEDED',
  DECLINED = 'DECLINED',
  PARTIALLY_REFUNDED = 'PARTIALLY_REFUNDED',
  REFUNDED = 'REFUNDED',
}
registerEnumType(PaymentStatus, {
  name: 'PaymentStatus',
  description: 'Where a payment is.',
  valuesConfig: {
    PENDING: { description: 'Recorded; the outcome is not known yet (retry with the same idempotency key, or wait).' },
    PROCESSING: { description: 'The processor is still working on it.' },
    REQUIRES_ACTION: { description: 'The customer must authenticate (3-D Secure) with the client secret.' },
    SUCCEEDED: { description: 'Paid.' },
    DECLINED: { description: 'Refused; nothing was charged. Another payment method may be tried.' },
    PARTIALLY_REFUNDED: { description: 'Paid, and part of it refunded.' },
    REFUNDED: { description: 'Paid and fully refunded.' },
  },
});

/** The outcome of a charge request, as the seed's `status` field. */
export enum ChargeStatus {
  SUCCEEDED = 'SUCCEEDED',
  DECLINED = 'DECLINED',
  REQUIRES_ACTION = 'REQUIRES_ACTION',
  PROCESSING = 'PROCESSING',
}
registerEnumType(ChargeStatus, { name: 'ChargeStatus', description: 'What happened to a charge request.' });

export enum PaymentProvider {
  STRIPE = 'STRIPE',
  PAYPAL = 'PAYPAL',
}
registerEnumType(PaymentProvider, {
  name: 'PaymentProvider',
  description: 'Who took a payment.',
  valuesConfig: {
    STRIPE: { description: 'A card charge through Stripe (chargeListing).' },
    PAYPAL: { description: 'A PayPal checkout (startPayPalCheckout, then capturePayPalCheckout).' },
  },
});
