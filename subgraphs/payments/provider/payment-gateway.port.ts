/**
 * What the payments service needs from a card processor, in our own terms. Stripe is the one
 * implementation (stripe.adapter.ts); tests of the service may use an in-memory fake.
 */
export interface ChargeRequest {
  amount: number;
  currency: string;
  paymentMethodId: string;
  description: string;
  metadata: Record<string, string>;
  /** Sent on every attempt: the provider returns the first result instead of charging again. */
  idempotencyKey: string;
}

export type ChargeOutcome =
  | { kind: 'succeeded'; reference: string; amount: number; currency: string }
  | { kind: 'processing'; reference: string }
  | { kind: 'requires_action'; reference: string; clientSecret: string }
  | { kind: 'declined'; reference: string | null; code: string; message: string };

export interface RefundRequest {
  reference: string;
  /** Minor units; the whole remaining amount when absent. */
  amount?: number;
  idempotencyKey: string;
}
export interface RefundOutcome {
  reference: string;
  amount: number;
  status: 'succeeded' | 'pending' | 'failed';
}

/** A provider-side view of a payment, for reconciliation. */
export interface PaymentState {
  reference: string;
  status: 'succeeded' | 'processing' | 'requires_action' | 'failed' | 'canceled';
  amount: number;
  currency: string;
  amountRefunded: number;
  /** Our payment id, as we put it in the metadata. */
  paymentId?: string;
  declineCode?: string;
  declineMessage?: string;
}

/** A verified webhook from the provider, already narrowed to what we act on. */
export type ProviderEvent =
  | { id: string; type: 'payment.changed'; reference: string; paymentId?: string }
  | { id: string; type: 'refund.changed'; reference: string; paymentId?: string }
  | { id: string; type: 'ignored'; providerType: string };

/** A charge request the provider refused as invalid (our bug or bad data): not retried, not a decline. */
export class PaymentRequestRejectedError extends Error {
  constructor(
    message: string,
    readonly param?: string,
  ) {
    super(message);
    this.name = 'PaymentRequestRejectedError';
  }
}
/** Webhook payload or signature not valid. */
export class WebhookSignatureError extends Error {}

export interface PaymentGateway {
  charge(request: ChargeRequest, attempt: number): Promise<ChargeOutcome>;
  retrieve(reference: string): Promise<PaymentState>;
  refund(request: RefundRequest, attempt: number): Promise<RefundOutcome>;
  /** Verifies signature and timestamp; throws WebhookSignatureError. */
  parseWebhook(rawBody: Buffer, signatureHeader: string | undefined): ProviderEvent;
  /** True for failures worth retrying with the same idempotency key (network, 5xx, 409, 429). */
  isTransient(error: unknown): boolean;
  /** True for transient failures that mean the provider itself is unwell (not a 409 for our own request in flight). */
  isOutage(error: unknown): boolean;
}
