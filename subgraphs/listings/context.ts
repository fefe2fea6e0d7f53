import type { EventBus } from '../../lib/events';
import type { BaseContext } from '../../lib/subgraph';
import type { ApiKeysService } from './domain/api-keys.service';
import type { ListingsService } from './domain/listings.service';
import type { UsersService } from './domain/users.service';
import { createListingLoader } from './loaders/listing.loader';
import { createListingCountLoader, createSellerListingsLoader } from './loaders/seller-listings.loader';
import { createUserLoader } from './loaders/user.loader';

/** Long-lived parts of the listings subgraph, built once by its composition root. */
export interface ListingsDeps {
  users: UsersService;
  listings: ListingsService;
  apiKeys: ApiKeysService;
  /** The event bus, for the admin dead-letter view. */
  bus: EventBus;
  /** Verifies email confirmation links (the email service signs them with the same secret). */
  emailConfirmationSecret: string;
  /** SITE_URL: the template of a listing's page on SayPro's site. */
  siteUrl: string;
}

export type ListingsContext = BaseContext &
  ListingsDeps & {
    loaders: ReturnType<typeof createLoaders>;
  };

/** Fresh loaders for every request: nothing cached outlives it, and each sees its own viewer's rows. */
export function createLoaders(deps: ListingsDeps, viewer: BaseContext['viewer']) {
  return {
    user: createUserLoader(deps.users),
    listing: createListingLoader(deps.listings),
    sellerListings: createSellerListingsLoader(deps.listings, viewer),
    listingCount: createListingCountLoader(deps.listings, viewer),
  };
}

export function createContext(deps: ListingsDeps) {
  return (base: BaseContext): ListingsContext => ({ ...base, ...deps, loaders: createLoaders(deps, base.viewer) });
}
