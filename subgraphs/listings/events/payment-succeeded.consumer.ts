import type { Database } from '../../../lib/db';
import type { EventBus } from '../../../lib/events';
import type { Logger } from '../../../lib/logger';
import { eq } from 'drizzle-orm';
import { LISTINGS_DB_SCHEMA } from '../db/migrations';
import { listings } from '../db/schema';
import type { ListingsService } from '../domain/listings.service';

export const PAYMENT_SUCCEEDED_QUEUE = 'listings.payment-succeeded';

/**
 * A paid listing goes live. Runs once per event (the inbox dedupes redeliveries) and is harmless
 * for a listing that is already ACTIVE.
 */
export function consumePaymentSucceeded(deps: {
  bus: EventBus;
  db: Database;
  listings: ListingsService;
  logger: Logger;
}): Promise<void> {
  const service = deps.listings;
  return deps.bus.consume({
    queue: PAYMENT_SUCCEEDED_QUEUE,
    events: ['payment.succeeded'],
    db: deps.db,
    inboxSchema: LISTINGS_DB_SCHEMA,
    handler: async (tx, event) => {
      const outcome = await service.activatePaid(
        tx,
        event.data.listingId,
        { requestId: event.requestId },
        { amount: event.data.amount, currency: event.data.currency },
      );
      const log = { listingId: event.data.listingId, paymentId: event.data.paymentId, outcome, reqId: event.requestId };
      if (outcome === 'not-payable' || outcome === 'underpaid' || outcome === 'missing') {
        // Paid, but this payment cannot put it live (withdrawn, or moved to a dearer category meanwhile): payments refunds it.
        const [row] = await tx
          .select({ status: listings.status })
          .from(listings)
          .where(eq(listings.id, event.data.listingId));
        await deps.bus.publish(
          tx,
          'listing.payment_rejected',
          { listingId: event.data.listingId, paymentId: event.data.paymentId, listingStatus: row?.status ?? 'MISSING' },
          { requestId: event.requestId },
        );
        deps.logger.warn(log, 'payment for a listing that cannot be activated: asked payments to refund it');
      } else deps.logger.info(log, 'listing activated by payment');
    },
  });
}
