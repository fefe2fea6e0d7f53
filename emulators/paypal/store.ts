import { feeOf, money, type Money } from './amounts';

export interface Link {
  href: string;
  rel: string;
  method: 'GET' | 'POST' | 'PATCH';
}

/** Orders v2 statuses the emulator reaches (SAVED and VOIDED belong to flows we do not use). */
export type OrderStatus = 'CREATED' | 'PAYER_ACTION_REQUIRED' | 'APPROVED' | 'COMPLETED';

/**
 * What the payer chose on the approval page, and so what capturing does: the capture completes,
 * stays PENDING (an eCheck; an admin route completes or denies it later), or the funding source is
 * declined at capture (422 INSTRUMENT_DECLINED, and the payer must approve again).
 */
export type Funding = 'balance' | 'pending' | 'declined';
export const FUNDINGS: readonly Funding[] = ['balance', 'pending', 'declined'];

export interface PurchaseUnit {
  reference_id: string;
  amount: Money;
  custom_id?: string;
  invoice_id?: string;
  description?: string;
}

export interface StoredOrder {
  id: string;
  clientId: string;
  status: OrderStatus;
  /** How the return URLs came: `payment_source.paypal.experience_context` (a `payer-action` link) or the older `application_context` (`approve`). */
  flow: 'payer-action' | 'approve';
  unit: PurchaseUnit;
  minor: number;
  returnUrl?: string;
  cancelUrl?: string;
  brandName?: string;
  payer?: { payer_id: string; email_address: string; name: { given_name: string; surname: string } };
  funding?: Funding;
  createTime: string;
  updateTime: string;
  /** When an order nobody approved stops existing (ms since epoch). */
  expiresAt: number;
  expired: boolean;
  captureId?: string;
}

export type CaptureStatus = 'COMPLETED' | 'PENDING' | 'DECLINED' | 'PARTIALLY_REFUNDED' | 'REFUNDED';

export interface StoredCapture {
  id: string;
  orderId: string;
  status: CaptureStatus;
  statusReason?: string;
  currency: string;
  minor: number;
  refundedMinor: number;
  customId?: string;
  invoiceId?: string;
  createTime: string;
  updateTime: string;
  refundIds: string[];
}

export interface StoredRefund {
  id: string;
  captureId: string;
  currency: string;
  minor: number;
  noteToPayer?: string;
  invoiceId?: string;
  createTime: string;
}

export interface PayPalEvent {
  id: string;
  event_version: '1.0';
  create_time: string;
  resource_type: 'checkout-order' | 'capture' | 'refund';
  resource_version: '2.0';
  event_type: string;
  summary: string;
  resource: Record<string, unknown>;
  links: Link[];
}

export function createStore() {
  return {
    orders: new Map<string, StoredOrder>(),
    captures: new Map<string, StoredCapture>(),
    refunds: new Map<string, StoredRefund>(),
    events: [] as PayPalEvent[],
  };
}
export type Store = ReturnType<typeof createStore>;

const MERCHANT = { email_address: 'merchant@saypro.example', merchant_id: 'SAYPROEMU0001' };

const link = (href: string, rel: string, method: Link['method'] = 'GET'): Link => ({ href, rel, method });

export function captureJson(capture: StoredCapture, base: string, withOrderId = false): Record<string, unknown> {
  const gross = capture.minor;
  const fee = feeOf(gross, capture.currency);
  return {
    id: capture.id,
    status: capture.status,
    ...(capture.statusReason ? { status_details: { reason: capture.statusReason } } : {}),
    amount: money(gross, capture.currency),
    final_capture: true,
    seller_protection: { status: 'ELIGIBLE', dispute_categories: ['ITEM_NOT_RECEIVED', 'UNAUTHORIZED_TRANSACTION'] },
    ...(capture.status === 'DECLINED'
      ? {}
      : {
          seller_receivable_breakdown: {
            gross_amount: money(gross, capture.currency),
            paypal_fee: money(fee, capture.currency),
            net_amount: money(gross - fee, capture.currency),
          },
        }),
    ...(capture.customId !== undefined ? { custom_id: capture.customId } : {}),
    ...(capture.invoiceId !== undefined ? { invoice_id: capture.invoiceId } : {}),
    ...(withOrderId ? { supplementary_data: { related_ids: { order_id: capture.orderId } } } : {}),
    links: [
      link(`${base}/v2/payments/captures/${capture.id}`, 'self'),
      link(`${base}/v2/payments/captures/${capture.id}/refund`, 'refund', 'POST'),
      link(`${base}/v2/checkout/orders/${capture.orderId}`, 'up'),
    ],
    create_time: capture.createTime,
    update_time: capture.updateTime,
  };
}

export function refundJson(
  refund: StoredRefund,
  capture: StoredCapture | undefined,
  base: string,
): Record<string, unknown> {
  const fee = capture
    ? Math.round((feeOf(capture.minor, refund.currency) * refund.minor) / Math.max(1, capture.minor))
    : 0;
  return {
    id: refund.id,
    amount: money(refund.minor, refund.currency),
    status: 'COMPLETED',
    ...(refund.noteToPayer ? { note_to_payer: refund.noteToPayer } : {}),
    ...(refund.invoiceId ? { invoice_id: refund.invoiceId } : {}),
    seller_payable_breakdown: {
      gross_amount: money(refund.minor, refund.currency),
      paypal_fee: money(fee, refund.currency),
      net_amount: money(refund.minor - fee, refund.currency),
      total_refunded_amount: money(capture?.refundedMinor ?? refund.minor, refund.currency),
    },
    create_time: refund.createTime,
    update_time: refund.createTime,
    links: [
      link(`${base}/v2/payments/refunds/${refund.id}`, 'self'),
      link(`${base}/v2/payments/captures/${refund.captureId}`, 'up'),
    ],
  };
}

function orderLinks(order: StoredOrder, base: string): Link[] {
  const self = `${base}/v2/checkout/orders/${order.id}`;
  const links = [link(self, 'self')];
  if (order.status === 'CREATED' || order.status === 'PAYER_ACTION_REQUIRED')
    links.push(link(`${base}/checkoutnow?token=${order.id}`, order.flow));
  if (order.status !== 'COMPLETED') links.push(link(self, 'update', 'PATCH'));
  if (order.status === 'APPROVED') links.push(link(`${self}/capture`, 'capture', 'POST'));
  return links;
}

/** The order as GET answers it (and `Prefer: return=representation` on writes). */
export function orderJson(order: StoredOrder, store: Store, base: string): Record<string, unknown> {
  const capture = order.captureId ? store.captures.get(order.captureId) : undefined;
  const refunds = capture ? capture.refundIds.map((id) => store.refunds.get(id)!).filter(Boolean) : [];
  const payments = capture
    ? {
        payments: {
          captures: [captureJson(capture, base)],
          ...(refunds.length ? { refunds: refunds.map((refund) => refundJson(refund, capture, base)) } : {}),
        },
      }
    : {};
  return {
    id: order.id,
    intent: 'CAPTURE',
    status: order.status,
    ...(order.payer
      ? {
          payment_source: {
            paypal: {
              email_address: order.payer.email_address,
              account_id: order.payer.payer_id,
              account_status: 'VERIFIED',
              name: order.payer.name,
              address: { country_code: 'US' },
            },
          },
        }
      : {}),
    purchase_units: [{ ...order.unit, payee: MERCHANT, ...payments }],
    ...(order.payer
      ? {
          payer: {
            name: order.payer.name,
            email_address: order.payer.email_address,
            payer_id: order.payer.payer_id,
            address: { country_code: 'US' },
          },
        }
      : {}),
    create_time: order.createTime,
    update_time: order.updateTime,
    links: orderLinks(order, base),
  };
}

/** `Prefer: return=minimal` (the default): id, status and links; a capture's answer keeps its captures. */
export function minimalOrderJson(order: StoredOrder, store: Store, base: string): Record<string, unknown> {
  const full = orderJson(order, store, base);
  if (order.status !== 'COMPLETED') return { id: full.id, status: full.status, links: full.links };
  const unit = (full.purchase_units as Array<Record<string, unknown>>)[0]!;
  return {
    id: full.id,
    status: full.status,
    payment_source: full.payment_source,
    purchase_units: [{ reference_id: unit.reference_id, payments: unit.payments }],
    payer: full.payer,
    links: full.links,
  };
}
