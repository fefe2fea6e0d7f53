/**
 * The objects the emulator serves, shaped like Stripe's (the fields our code and the SDK's types
 * read; the rest of Stripe's fields are present with their usual empty values).
 */

export interface CardDetails {
  brand: string;
  country: string;
  exp_month: number;
  exp_year: number;
  fingerprint: string;
  funding: 'credit' | 'debit' | 'prepaid';
  last4: string;
}

export interface PaymentMethod {
  id: string;
  object: 'payment_method';
  allow_redisplay: 'unspecified';
  billing_details: { address: null; email: null; name: null; phone: null };
  card: CardDetails;
  created: number;
  customer: string | null;
  customer_account: null;
  livemode: false;
  metadata: Record<string, string>;
  type: 'card';
}

/** An error that happened while paying, as Stripe puts it on the PaymentIntent. */
export interface LastPaymentError {
  charge?: string;
  code: string;
  decline_code?: string;
  doc_url: string;
  message: string;
  param?: string;
  payment_method?: PaymentMethod;
  type: 'card_error' | 'invalid_request_error';
}

export type NextAction =
  | { type: 'use_stripe_sdk'; use_stripe_sdk: Record<string, string> }
  | { type: 'redirect_to_url'; redirect_to_url: { return_url: string; url: string } };

export type PaymentIntentStatus =
  | 'requires_payment_method'
  | 'requires_confirmation'
  | 'requires_action'
  | 'processing'
  | 'requires_capture'
  | 'canceled'
  | 'succeeded';

export interface PaymentIntent {
  id: string;
  object: 'payment_intent';
  /** The types the request allowed (`allowed_payment_method_types`); null when it named none. */
  allowed_payment_method_types: string[] | null;
  amount: number;
  amount_capturable: number;
  amount_received: number;
  application: null;
  application_fee_amount: number | null;
  automatic_payment_methods: { allow_redirects?: 'always' | 'never'; enabled: boolean } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: 'automatic' | 'automatic_async';
  client_secret: string;
  confirmation_method: 'automatic' | 'manual';
  created: number;
  currency: string;
  customer: string | null;
  customer_account: string | null;
  description: string | null;
  excluded_payment_method_types: string[] | null;
  last_payment_error: LastPaymentError | null;
  /** A charge id, or the charge itself when the request asked for `expand[]=latest_charge`. */
  latest_charge: string | Charge | null;
  livemode: false;
  managed_payments: null;
  metadata: Record<string, string>;
  next_action: NextAction | null;
  on_behalf_of: null;
  /** A payment method id, or the payment method itself when expanded. */
  payment_method: string | PaymentMethod | null;
  payment_method_configuration_details: null;
  payment_method_options: {
    card: { installments: null; mandate_options: null; network: null; request_three_d_secure: 'automatic' };
  };
  /** The types the PaymentIntent can be paid with. */
  payment_method_types: string[];
  payment_record: null;
  processing: null;
  receipt_email: string | null;
  review: null;
  setup_future_usage: string | null;
  shipping: null;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: PaymentIntentStatus;
  transfer_data: null;
  transfer_group: string | null;
}

export interface Charge {
  id: string;
  object: 'charge';
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  application: null;
  application_fee: null;
  application_fee_amount: null;
  balance_transaction: string | null;
  billing_details: { address: null; email: null; name: null; phone: null };
  calculated_statement_descriptor: string;
  captured: boolean;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  disputed: false;
  failure_balance_transaction: null;
  failure_code: string | null;
  failure_message: string | null;
  fraud_details: Record<string, never>;
  livemode: false;
  metadata: Record<string, string>;
  on_behalf_of: null;
  outcome: {
    network_status: 'approved_by_network' | 'declined_by_network' | 'not_sent_to_network';
    reason: string | null;
    risk_level: 'normal';
    seller_message: string;
    type: 'authorized' | 'issuer_declined';
  };
  paid: boolean;
  payment_intent: string;
  payment_method: string;
  payment_method_details: { card: CardDetails & { network: string }; type: 'card' };
  receipt_email: string | null;
  receipt_number: null;
  receipt_url: string;
  refunded: boolean;
  review: null;
  shipping: null;
  source: null;
  source_transfer: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: 'succeeded' | 'failed';
  transfer_data: null;
  transfer_group: string | null;
}

export interface Refund {
  id: string;
  object: 'refund';
  amount: number;
  balance_transaction: string;
  charge: string;
  created: number;
  currency: string;
  customer: string | null;
  customer_account: null;
  destination_details: {
    card: { reference_status: 'pending'; reference_type: 'acquirer_reference_number'; type: 'refund' };
    type: 'card';
  };
  metadata: Record<string, string>;
  payment_intent: string;
  payment_method: string;
  reason: 'duplicate' | 'fraudulent' | 'requested_by_customer' | null;
  receipt_number: null;
  source_transfer_reversal: null;
  status: 'succeeded';
  transfer_reversal: null;
}

export type EventObject = PaymentIntent | Charge | Refund;

export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: EventObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  /** The API request that caused it; both null when it came from elsewhere (3-D Secure, the dashboard). */
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface StripeList<T> {
  object: 'list';
  data: T[];
  has_more: boolean;
  url: string;
}

/** Everything the emulator holds; one account. */
export interface StripeStore {
  paymentIntents: Map<string, PaymentIntent>;
  charges: Map<string, Charge>;
  refunds: Map<string, Refund>;
  paymentMethods: Map<string, PaymentMethod>;
  /** Oldest first. */
  events: StripeEvent[];
  /** Which test card (`pm_card_visa`, …) each created payment method stands for: it decides the outcome. */
  testCards: Map<string, string>;
}

export function createStore(): StripeStore {
  return {
    paymentIntents: new Map(),
    charges: new Map(),
    refunds: new Map(),
    paymentMethods: new Map(),
    events: [],
    testCards: new Map(),
  };
}

/** Who is asking: the request id and key go into the events the request causes. */
export interface RequestInfo {
  id: string | null;
  idempotencyKey: string | null;
  /** The `Stripe-Version` the client sent, or the account's. */
  apiVersion: string;
}

export interface ApiContext {
  store: StripeStore;
  request: RequestInfo;
  /** The emulator's base URL as the client reached it, for links it hands out (3-D Secure page). */
  baseUrl: string;
  /** Records an event (with a snapshot of `object`) and hands it to webhook delivery. */
  emit(type: string, object: EventObject, previousAttributes?: Record<string, unknown>): void;
}

export interface ApiResult {
  status: number;
  body: unknown;
}

/** One API request as the emulator answered it (`dropped`: the connection was cut on purpose). */
export interface RecordedRequest {
  method: string;
  path: string;
  status: number | 'dropped';
  idempotencyKey?: string;
  requestId: string;
  at: string;
}
