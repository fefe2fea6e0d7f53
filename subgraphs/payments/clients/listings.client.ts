import type { Viewer } from '../../../lib/auth';
import { createEntityClient, createInternalClient, SYSTEM_VIEWER } from '../../../lib/entity-client';

/** What payments needs to know about a listing before charging for it. */
export interface ListingFacts {
  id: string;
  sellerId: string;
  status: string;
  category: string;
  title: string;
}

export interface ListingsClient {
  /** The listing as `viewer` may see it; null when it does not exist or is hidden from them. */
  get(id: string, viewer: Viewer, requestId?: string): Promise<ListingFacts | null>;
  /** Puts a paid listing live now (listings' internal `activatePaidListing`, as the system); its outcome. */
  activatePaid(listingId: string, paid: { amount: number; currency: string }, requestId?: string): Promise<string>;
}

const ACTIVATE =
  'mutation ($listingId: ID!, $amount: Int!, $currency: String!) { activatePaidListing(listingId: $listingId, amount: $amount, currency: $currency) }';

/**
 * Reads a listing from the listings subgraph (its owner) through the graph, signed as the same
 * viewer, so listings' own visibility rules apply. Payments never reads listings' tables.
 */
export function createListingsClient(options: {
  url: () => string;
  internalSecret: string;
  timeoutMs?: number;
}): ListingsClient {
  const fetchEntities = createEntityClient({ service: 'listings', ...options });
  const internal = createInternalClient({ service: 'listings', ...options });
  return {
    async activatePaid(listingId, paid, requestId) {
      const data = await internal<{ activatePaidListing: string }>(
        ACTIVATE,
        { listingId, ...paid },
        SYSTEM_VIEWER,
        requestId,
      );
      return data.activatePaidListing;
    },
    async get(id, viewer, requestId) {
      type Entity = { id: string; status: string; category: string; title: string; seller: { id: string } };
      const [entity] = await fetchEntities<Entity>(
        'Listing',
        [id],
        'id status category title seller { id }',
        viewer,
        requestId,
      );
      return entity
        ? {
            id: entity.id,
            sellerId: entity.seller.id,
            status: entity.status,
            category: entity.category,
            title: entity.title,
          }
        : null;
    },
  };
}
