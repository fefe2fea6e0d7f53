import type { Database } from '../../../lib/db';
import type { EventBus, EventName } from '../../../lib/events';
import { CRM_DB_SCHEMA } from '../db/migrations';
import type { CrmService } from '../domain/crm.service';

export const CRM_CHANGES_QUEUE = 'crm.user-changes';
const EVENTS = [
  'user.created',
  'user.updated',
  'listing.created',
  'listing.status_changed',
  'payment.succeeded',
  'payment.refunded',
] as const satisfies readonly EventName[];

/**
 * Every change that alters what the CRM shows of a user marks that user PENDING, in the event's
 * own inbox transaction. The flusher does the HubSpot calls, so bursts coalesce into one upsert.
 */
export function consumeUserChanges(deps: { bus: EventBus; db: Database; crm: CrmService }): Promise<void> {
  return deps.bus.consume({
    queue: CRM_CHANGES_QUEUE,
    events: EVENTS,
    db: deps.db,
    inboxSchema: CRM_DB_SCHEMA,
    handler: async (tx, event) => {
      const data = event.data as { userId?: string; sellerId?: string };
      const userId = data.userId ?? data.sellerId;
      if (userId) await deps.crm.markPending(tx, userId);
    },
  });
}
