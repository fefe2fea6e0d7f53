/**
 * The marketplace's listing categories. Shared because configuration (per-category posting fees)
 * and several services key on them; the listings subgraph's ListingCategory enum must match.
 */
export const LISTING_CATEGORIES = [
  'VEHICLES',
  'PROPERTY',
  'JOBS',
  'SERVICES',
  'ELECTRONICS',
  'HOME_AND_GARDEN',
  'FASHION',
  'PETS',
  'COMMUNITY',
  'OTHER',
] as const;
export type ListingCategoryName = (typeof LISTING_CATEGORIES)[number];
