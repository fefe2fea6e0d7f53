import { createByIdLoader } from '../../../lib/loaders';
import type { ListingRow } from '../db/schema';
import type { ListingsService } from '../domain/listings.service';

/** Listings by id, batched: `_entities` for 50 listings is one query. */
export const createListingLoader = (listings: ListingsService) =>
  createByIdLoader<ListingRow>('Listing', (ids) => listings.byIds(ids));
