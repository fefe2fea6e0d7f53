import { SYSTEM_VIEWER, type InternalClient } from '../../../lib/entity-client';
import type { ListingDirectory } from '../domain/seo.service';

const LISTINGS_PAGE = `query ($first: Int!, $after: String, $status: ListingStatus) {
  listings(first: $first, after: $after, filter: { status: $status }) { nodes { id } pageInfo { endCursor hasNextPage } }
}`;

/** Every listing id of a status, from listings' own `listings` query (as the system, which sees every status). */
export function createListingDirectory(listings: InternalClient): ListingDirectory {
  return async (status, after, first) => {
    type Page = {
      listings: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string | null; hasNextPage: boolean } };
    };
    const { listings: page } = await listings<Page>(LISTINGS_PAGE, { first, after, status }, SYSTEM_VIEWER);
    return {
      ids: page.nodes.map((n) => n.id),
      endCursor: page.pageInfo.endCursor,
      hasNextPage: page.pageInfo.hasNextPage,
    };
  };
}
