import { observedLoader } from '../../../lib/loaders';
import type { Viewer } from '../../../lib/auth';
import { createGroupedLoader } from '../../../lib/loaders';
import { decodeCursor, type Page } from '../../../lib/pagination';
import type { ListingRow } from '../db/schema';
import type { ListingsService } from '../domain/listings.service';

export interface SellerPageKey {
  sellerId: string;
  limit: number;
  after?: string | null;
}

/** `User.listings` for every user on a page in one query per (page size, cursor). */
export function createSellerListingsLoader(listings: ListingsService, viewer: Viewer) {
  return createGroupedLoader<SellerPageKey, Page<ListingRow>>(
    { service: 'listings', loader: 'sellerListings' },
    (key) => `${key.limit}|${key.after ?? ''}`,
    async (keys) => {
      const { limit, after } = keys[0]!;
      const pages = await listings.pagesBySellers(
        viewer,
        keys.map((k) => k.sellerId),
        limit,
        after ? decodeCursor(after) : undefined,
      );
      return keys.map((k) => pages.get(k.sellerId) ?? { nodes: [], hasNextPage: false });
    },
    (key) => `${key.sellerId}|${key.limit}|${key.after ?? ''}`,
  );
}

/** `User.listingCount` for every user on a page in one query. */
export function createListingCountLoader(listings: ListingsService, viewer: Viewer) {
  return observedLoader<string, number>('listings', 'sellerListingCount', async (sellerIds) => {
    const counts = await listings.countsBySellers(viewer, sellerIds);
    return sellerIds.map((id) => counts.get(id) ?? 0);
  });
}
