import type { Database } from '../../../lib/db';
import type { EventBus } from '../../../lib/events';
import { ANALYTICS_DB_SCHEMA } from '../db/migrations';
import type { AnalyticsService } from '../domain/analytics.service';
import { ANALYTICS_EVENTS } from '../domain/event-mapping';

export const ANALYTICS_EVENTS_QUEUE = 'analytics.domain-events';

/**
 * Users signing up, listings going live, payments and refunds: each becomes its GA4 event in the
 * outbox, in the event's own inbox transaction (exactly once per event id). The sender talks to GA4.
 */
export function consumeDomainEvents(deps: { bus: EventBus; db: Database; analytics: AnalyticsService }): Promise<void> {
  return deps.bus.consume({
    queue: ANALYTICS_EVENTS_QUEUE,
    events: ANALYTICS_EVENTS,
    db: deps.db,
    inboxSchema: ANALYTICS_DB_SCHEMA,
    handler: async (tx, event) => {
      await deps.analytics.record(tx, event);
    },
  });
}
