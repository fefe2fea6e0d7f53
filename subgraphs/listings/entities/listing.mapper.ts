import type { ListingRow } from '../db/schema';
import type { ListingCategory, ListingStatus } from './enums';
import type { Listing } from './listing';

/** Database row → GraphQL shape. */
export function toListing(row: ListingRow): Listing {
  return {
    id: row.id,
    title: row.title,
    description: row.description,
    price: { amount: row.priceAmount, currency: row.currency },
    category: row.category as ListingCategory,
    location: row.location,
    status: row.status as ListingStatus,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    publishedAt: row.publishedAt,
    expiresAt: row.expiresAt,
    sellerId: row.sellerId,
  };
}
