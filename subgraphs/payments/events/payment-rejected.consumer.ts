import type { Database } from '../../../lib/db';
import type { EventBus } from '../../../lib/events';
import type { Logger } from '../../../lib/logger';
import { PAYMENTS_DB_SCHEMA } from '../db/migrations';
import type { PaymentsService } from '../domain/payments.service';

export const PAYMENT_REJECTED_QUEUE = 'payments.payment-rejected';

/**
 * Listings could not put a paid listing live (withdrawn between the check and the charge): refund
 * the payer in full. A provider call, so it runs outside a transaction and is keyed by the payment.
 */
export function consumePaymentRejected(deps: {
  bus: EventBus;
  db: Database;
  payments: PaymentsService;
  logger: Logger;
}): Promise<void> {
  return deps.bus.consume({
    queue: PAYMENT_REJECTED_QUEUE,
    events: ['listing.payment_rejected'],
    db: deps.db,
    inboxSchema: PAYMENTS_DB_SCHEMA,
    effect: async (event) => {
      const refunded = await deps.payments.autoRefund(event.data.paymentId, { requestId: event.requestId });
      deps.logger.info(
        {
          paymentId: event.data.paymentId,
          listingStatus: event.data.listingStatus,
          status: refunded?.status ?? 'unknown payment',
        },
        'payment for a rejected listing handled',
      );
    },
  });
}
