import { toDecimalString } from '../../../lib/currencies';
import type { PublicListing } from './public-listing';

/** schema.org ItemAvailability of a listing by its status; undefined while it was never public. */
export function availabilityOf(status: string): string | undefined {
  switch (status) {
    case 'ACTIVE':
      return 'https://schema.org/InStock';
    case 'WITHDRAWN':
      return 'https://schema.org/SoldOut';
    case 'EXPIRED':
      return 'https://schema.org/Discontinued';
    default:
      return undefined;
  }
}

export type JsonLd = Record<string, unknown>;

/**
 * The listing page's JSON-LD: a schema.org Product with one Offer (price as a decimal string in
 * the currency's ISO 4217 exponent, availability from the status, the seller as a Person) at the
 * listing's canonical URL. Null for a listing that was never public (DRAFT, PENDING_PAYMENT).
 * Listings have no condition field yet, so itemCondition is left out rather than guessed.
 */
export function structuredDataOf(listing: PublicListing, status: string): JsonLd | null {
  const availability = availabilityOf(status);
  if (!availability) return null;
  const offer: JsonLd = {
    '@type': 'Offer',
    url: listing.url,
    price: toDecimalString(listing.price.amount, listing.price.currency),
    priceCurrency: listing.price.currency,
    availability,
  };
  if (listing.sellerName) offer.seller = { '@type': 'Person', name: listing.sellerName };
  return {
    '@context': 'https://schema.org',
    '@type': 'Product',
    '@id': `${listing.url}#product`,
    name: listing.title,
    description: listing.description,
    url: listing.url,
    category: listing.category,
    offers: offer,
  };
}
