import type { Viewer } from '../../../lib/auth';
import { createEntityClient } from '../../../lib/entity-client';

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
}

/**
 * Reads a listing from the listings subgraph (its owner) through the graph, signed as the same
 * viewer, so listings' own visibility rules apply. Payments never reads listings' tables.
 */
export function createListingsClient(options: { url: () => string; internalSecret: string; timeoutMs?: number }): ListingsClient {
  const fetchEntities = createEntityClient({ service: 'listings', ...options });
  return {
    async get(id, viewer, requestId) {
      type Entity = { id: string; status: string; category: string; title: string; seller: { id: string } };
      const [entity] = await fetchEntities<Entity>('Listing', [id], 'id status category title seller { id }', viewer, requestId);
      return entity ? { id: entity.id, sellerId: entity.seller.id, status: entity.status, category: entity.category, title: entity.title } : null;
    },
  };
}
