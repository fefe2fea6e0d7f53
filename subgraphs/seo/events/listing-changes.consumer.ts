import type { Database } from '../../../lib/db';
import type { EventBus, EventEnvelope, EventName } from '../../../lib/events';
import { SEO_DB_SCHEMA } from '../db/migrations';
import type { SeoService } from '../domain/seo.service';

export const SEO_EVENTS_QUEUE = 'seo.listing-changes';
/** Every listing event: publish (created ACTIVE or status to ACTIVE), edits, withdrawal and expiry (status changes). */
export const SEO_EVENTS = [
  'listing.created',
  'listing.updated',
  'listing.status_changed',
] as const satisfies readonly EventName[];

/** Re-reads the listing on each of its events and keeps its SEO page (an effect: the read is an HTTP call to listings). */
export function consumeListingChanges(deps: { bus: EventBus; db: Database; seo: SeoService }): Promise<void> {
  return deps.bus.consume({
    queue: SEO_EVENTS_QUEUE,
    events: SEO_EVENTS,
    db: deps.db,
    inboxSchema: SEO_DB_SCHEMA,
    effect: async (event: EventEnvelope<(typeof SEO_EVENTS)[number]>) => {
      await deps.seo.refresh(event.data.listingId, event.requestId);
    },
  });
}
