import { toDecimalString } from '../../../lib/currencies';
import type { EventEnvelope, EventName } from '../../../lib/events';
import type { Ga4Event } from '../provider/ga4-gateway.port';

/** The domain events that become GA4 events (and nothing else does). */
export const ANALYTICS_EVENTS = [
  'user.created',
  'listing.created',
  'listing.status_changed',
  'payment.succeeded',
  'payment.refunded',
] as const satisfies readonly EventName[];
export type AnalyticsEventName = (typeof ANALYTICS_EVENTS)[number];

/** GA4 wants money as a number in major units: 1000 minor USD is 10, 1000 JPY is 1000. */
const major = (minor: number, currency: string): number => Number(toDecimalString(minor, currency));

/** The posting fee as GA4's `items` (one item: the listing it was paid for). */
const feeItem = (listingId: string, price: number) => ({
  item_id: listingId,
  item_name: 'listing posting fee',
  item_category: 'posting_fee',
  price,
  quantity: 1,
});

/**
 * The GA4 event a domain event means, and whose it is; null for what is not tracked (a listing
 * created as a draft or awaiting payment, a status change to anything but ACTIVE). Pure: the
 * pipeline's unit tests read each mapping from here. `refundedBefore`: what earlier refunds of the
 * payment gave back (minor units), since a refund event carries the running total. Only our ids and amounts go in, never a
 * name, an email or free text.
 */
export function ga4EventOf(
  event: EventEnvelope<AnalyticsEventName>,
  context: { refundedBefore?: number } = {},
): { userId: string; event: Ga4Event } | null {
  switch (event.name) {
    case 'user.created': {
      const data = event.data as EventEnvelope<'user.created'>['data'];
      return { userId: data.userId, event: { name: 'sign_up', params: { method: 'email' } } };
    }
    case 'listing.created': {
      const data = event.data as EventEnvelope<'listing.created'>['data'];
      if (data.status !== 'ACTIVE') return null;
      return {
        userId: data.sellerId,
        event: { name: 'listing_published', params: { listing_id: data.listingId, listing_category: data.category } },
      };
    }
    case 'listing.status_changed': {
      const data = event.data as EventEnvelope<'listing.status_changed'>['data'];
      if (data.to !== 'ACTIVE' || data.from === 'ACTIVE') return null;
      return { userId: data.sellerId, event: { name: 'listing_published', params: { listing_id: data.listingId } } };
    }
    case 'payment.succeeded': {
      const data = event.data as EventEnvelope<'payment.succeeded'>['data'];
      const value = major(data.amount, data.currency);
      return {
        userId: data.userId,
        event: {
          name: 'purchase',
          params: {
            transaction_id: data.paymentId,
            value,
            currency: data.currency,
            items: [feeItem(data.listingId, value)],
          },
        },
      };
    }
    case 'payment.refunded': {
      const data = event.data as EventEnvelope<'payment.refunded'>['data'];
      // amountRefunded is the payment's running total: GA4 gets what this refund gave back.
      const refunded = data.amountRefunded - (context.refundedBefore ?? 0);
      if (refunded <= 0) return null;
      const value = major(refunded, data.currency);
      // A full refund names no items (GA4: the whole transaction); a partial one the fee item with what came back.
      return {
        userId: data.userId,
        event: {
          name: 'refund',
          params: {
            transaction_id: data.paymentId,
            value,
            currency: data.currency,
            ...(data.fullyRefunded ? {} : { items: [feeItem(data.listingId, value)] }),
          },
        },
      };
    }
    default:
      return null;
  }
}
