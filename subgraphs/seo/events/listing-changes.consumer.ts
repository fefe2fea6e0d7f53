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

export const SEO_SELLER_QUEUE = 'seo.seller-changes';

/** A seller renamed (user.updated naming `name`): every page of theirs shows the name, so all are read again. */
export function consumeSellerChanges(deps: { bus: EventBus; db: Database; seo: SeoService }): Promise<void> {
  return deps.bus.consume({
    queue: SEO_SELLER_QUEUE,
    events: ['user.updated'] as const,
    db: deps.db,
    inboxSchema: SEO_DB_SCHEMA,
    effect: async (event: EventEnvelope<'user.updated'>) => {
      if (event.data.changed.includes('name')) await deps.seo.refreshSeller(event.data.userId, event.requestId);
    },
  });
}
