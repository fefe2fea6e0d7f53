import { createHash } from 'node:crypto';

/** A listing's public fields, as the seo service reads them from listings. */
export interface PublicListing {
  id: string;
  url: string;
  title: string;
  description: string;
  price: { amount: number; currency: string };
  category: string;
  location: string;
  /** The seller's display name (listings shows it to everyone). */
  sellerName: string | null;
}

/** A listing as listings answers for the seo service: the public fields plus status and change time. */
export interface ListingSnapshot extends PublicListing {
  status: string;
  updatedAt: Date;
  /** The seller's user id: not public content (never hashed or in the sitemap); it decides who reads `Listing.seo`. */
  sellerId: string | null;
}

/**
 * SHA-256 of the public fields in a fixed order: equal exactly when what a search engine sees is
 * equal. Status is not content (it decides presence in the sitemap, not lastmod).
 */
export function publicContentHash(listing: PublicListing): string {
  const fields = [
    listing.url,
    listing.title,
    listing.description,
    listing.price.amount,
    listing.price.currency,
    listing.category,
    listing.location,
    listing.sellerName,
  ];
  return createHash('sha256').update(JSON.stringify(fields)).digest('hex');
}

/** Only the public fields, in a fixed shape (what is stored and hashed; nothing else leaks in). */
export function publicFieldsOf(listing: PublicListing): PublicListing {
  const { id, url, title, description, price, category, location, sellerName } = listing;
  return {
    id,
    url,
    title,
    description,
    price: { amount: price.amount, currency: price.currency },
    category,
    location,
    sellerName,
  };
}
