import { SYSTEM_VIEWER, type EntityClient } from '../../../lib/entity-client';
import type { ListingSource } from '../domain/seo.service';

type ListingAnswer = {
  id: string;
  url: string;
  title: string;
  description: string;
  price: { amount: number; currency: string };
  category: string;
  location: string;
  status: string;
  updatedAt: string;
  seller: { id: string; name: string; updatedAt: string } | null;
};
const LISTING_FIELDS =
  'id url title description price { amount currency } category location status updatedAt seller { id name updatedAt }';

/**
 * Listings as their owner answers them (one `_entities` call per batch), as the seo service needs
 * them. The seller's name is on the page too, so a read is as new as the newer of the listing and its
 * seller: a read from before a rename never overwrites one from after it (SeoService.record).
 */
export function createListingSource(listings: EntityClient): ListingSource {
  return async (ids, requestId) => {
    const answers = await listings<ListingAnswer>('Listing', ids, LISTING_FIELDS, SYSTEM_VIEWER, requestId);
    return answers.map((a) =>
      a
        ? {
            ...a,
            sellerName: a.seller?.name ?? null,
            sellerId: a.seller?.id ?? null,
            updatedAt: new Date(Math.max(Date.parse(a.updatedAt), a.seller ? Date.parse(a.seller.updatedAt) : 0)),
          }
        : null,
    );
  };
}
