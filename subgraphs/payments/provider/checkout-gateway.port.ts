/**
 * What the payments service needs from a redirect checkout (the payer approves on the provider's
 * page, then we capture), in our own terms. PayPal is the implementation (paypal.adapter.ts);
 * service tests may use an in-memory fake. Amounts are integers in the currency's minor unit, as
 * everywhere in the project; the adapter converts them to the provider's format.
 */
import type { RefundOutcome } from './payment-gateway.port';

export interface CheckoutRequest {
  /** Our payment id: the order's idempotency key (and its capture's) derive from it. */
  paymentId: string;
  amount: number;
  currency: string;
  /** Shown to the payer (at most 127 characters). */
  description: string;
  /** Where the payer lands after approving (the provider adds `token=<orderId>`). */
  returnUrl: string;
  /** Where the payer lands after cancelling. */
  cancelUrl: string;
  /** Ours, kept on the order (e.g. the listing id). */
  reference?: string;
  /** The merchant name on the approval page. @default SayPro */
  brandName?: string;
}

export interface CheckoutSession {
  orderId: string;
  /** Send the payer here. */
  approvalUrl: string;
}

/** created: waiting for the payer; approved: ready to capture; completed: captured (see the capture's own status). */
export type CheckoutOrderStatus = 'created' | 'approved' | 'completed';

export interface CheckoutCapture {
  id: string;
  status: 'completed' | 'pending' | 'declined' | 'partially_refunded' | 'refunded';
  amount: number;
  currency: string;
  amountRefunded: number;
  /** Why a capture is pending (e.g. ECHECK). */
  pendingReason?: string;
}

/** The provider's view of an order, for capture answers and reconciliation. */
export interface CheckoutOrderState {
  orderId: string;
  status: CheckoutOrderStatus;
  amount: number;
  currency: string;
  /** Our payment id, as we put it on the order. */
  paymentId?: string;
  reference?: string;
  /** The approval page, while the payer still has to approve. */
  approvalUrl?: string;
  capture?: CheckoutCapture;
}

export type CaptureOutcome =
  /** Captured now or before (a second capture answers the first): the capture says completed, pending or declined. */
  | { kind: 'captured'; order: CheckoutOrderState }
  /** The payer has not approved (yet): nothing was taken. */
  | { kind: 'not_approved'; orderId: string }
  /** The payer's funding was refused: they must approve again (with another way to pay) at `approvalUrl`. */
  | { kind: 'declined'; orderId: string; code: string; message: string };

export interface CheckoutRefundRequest {
  /** Our payment id and our refund's id: the refund's idempotency key derives from both. */
  paymentId: string;
  refundId: string;
  captureId: string;
  currency: string;
  /** Minor units; the whole remaining amount when absent. */
  amount?: number;
}

/** A verified webhook, narrowed to what we act on; reconcile by reading the order or capture. */
export type CheckoutEvent =
  | { id: string; type: 'order.approved'; orderId: string; paymentId?: string }
  | {
      id: string;
      type: 'capture.completed' | 'capture.denied';
      captureId: string;
      orderId?: string;
      paymentId?: string;
    }
  | { id: string; type: 'capture.refunded'; refundId: string; captureId?: string }
  | { id: string; type: 'ignored'; providerType: string };

/**
 * A failure the service can map: `rejected` (our request was invalid: not retried), `not_found`
 * (unknown or expired order, capture), `conflict` (the provider's state forbids it: refund more than
 * is left, an already refunded capture), `auth` (our credentials), `unavailable` (network, 5xx, 429:
 * retried with the same key). `issue` is the provider's code; `debugId` goes to its support.
 */
export class CheckoutError extends Error {
  constructor(
    readonly kind: 'rejected' | 'not_found' | 'conflict' | 'auth' | 'unavailable',
    message: string,
    readonly details: { status?: number; issue?: string; debugId?: string; field?: string } = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CheckoutError';
  }
}

export interface CheckoutGateway {
  /** Creates the order for exactly this amount; the same payment id again answers the same order. */
  createOrder(request: CheckoutRequest, attempt: number): Promise<CheckoutSession>;
  getOrder(orderId: string): Promise<CheckoutOrderState>;
  /** Idempotent: the same payment id captures once, and answers that capture every time. */
  captureOrder(orderId: string, paymentId: string, attempt: number): Promise<CaptureOutcome>;
  getCapture(captureId: string): Promise<CheckoutCapture & { orderId?: string; paymentId?: string }>;
  refundCapture(request: CheckoutRefundRequest, attempt: number): Promise<RefundOutcome>;
  /** Asks the provider whether the delivery is genuine; throws WebhookSignatureError when it is not. */
  verifyWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): Promise<CheckoutEvent>;
  /** True for failures worth retrying with the same key (network, 5xx, 429, the same key still in flight). */
  isTransient(error: unknown): boolean;
  /** True for transient failures that mean the provider itself is unwell. */
  isOutage(error: unknown): boolean;
}
