import { signViewerHeader, VIEWER_HEADER, REQUEST_ID_HEADER, type Viewer } from '../../../lib/auth';
import { ServiceUnavailableError } from '../../../lib/errors';

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

const QUERY = `query ($representations: [_Any!]!) {
  _entities(representations: $representations) { ... on Listing { id status category title seller { id } } }
}`;

/**
 * Reads a listing from the listings subgraph (its owner) through the graph, signed as the same
 * viewer, so listings' own visibility rules apply. Payments never reads listings' tables.
 */
export function createListingsClient(options: { url: () => string; internalSecret: string; timeoutMs?: number }): ListingsClient {
  return {
    async get(id, viewer, requestId) {
      let res: Response;
      try {
        res = await fetch(options.url(), {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [VIEWER_HEADER]: signViewerHeader(viewer, options.internalSecret, 30),
            ...(requestId ? { [REQUEST_ID_HEADER]: requestId } : {}),
          },
          body: JSON.stringify({ query: QUERY, variables: { representations: [{ __typename: 'Listing', id }] } }),
          signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
        });
      } catch {
        throw new ServiceUnavailableError('listings');
      }
      if (!res.ok) throw new ServiceUnavailableError('listings');
      const body = (await res.json()) as {
        data?: { _entities: Array<{ id: string; status: string; category: string; title: string; seller: { id: string } } | null> };
      };
      const entity = body.data?._entities?.[0];
      if (!entity) return null;
      return { id: entity.id, sellerId: entity.seller.id, status: entity.status, category: entity.category, title: entity.title };
    },
  };
}
