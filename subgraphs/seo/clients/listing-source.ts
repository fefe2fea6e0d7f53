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
  seller: { id: string; name: string } | null;
};
const LISTING_FIELDS =
  'id url title description price { amount currency } category location status updatedAt seller { id name }';

/** Listings as their owner answers them (one `_entities` call per batch), as the seo service needs them. */
export function createListingSource(listings: EntityClient): ListingSource {
  return async (ids, requestId) => {
    const answers = await listings<ListingAnswer>('Listing', ids, LISTING_FIELDS, SYSTEM_VIEWER, requestId);
    return answers.map((a) =>
      a
        ? { ...a, sellerName: a.seller?.name ?? null, sellerId: a.seller?.id ?? null, updatedAt: new Date(a.updatedAt) }
        : null,
    );
  };
}
