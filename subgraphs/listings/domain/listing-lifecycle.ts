import type { Viewer } from '../../../lib/auth';
import { allows } from '../../../lib/permissions';
import type { ListingStatus } from '../db/schema';

/**
 * The listing lifecycle, enforced on the server:
 *
 *   DRAFT ──submit──▶ PENDING_PAYMENT ──payment──▶ ACTIVE ──expiry──▶ EXPIRED
 *     │  (free: straight to ACTIVE)        │                │                  │
 *     └────────────── withdraw ───────────┴────────────────┴──────────────────┴──▶ WITHDRAWN (final)
 *
 * A change of category re-prices (ListingsService.update): PENDING_PAYMENT moved to a free
 * category becomes ACTIVE; ACTIVE moved to a higher fee is PAYMENT_REQUIRED; a payment smaller
 * than the current category's fee does not activate (it is refunded).
 */
const TRANSITIONS: Record<ListingStatus, readonly ListingStatus[]> = {
  DRAFT: ['PENDING_PAYMENT', 'ACTIVE', 'WITHDRAWN'],
  PENDING_PAYMENT: ['ACTIVE', 'WITHDRAWN'],
  ACTIVE: ['EXPIRED', 'WITHDRAWN'],
  EXPIRED: ['WITHDRAWN'],
  WITHDRAWN: [],
};

export function canTransition(from: ListingStatus, to: ListingStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Status a listing leaves DRAFT for (or starts in): it waits for its posting fee unless it is free. */
export function publishedStatus(postingFee: number): ListingStatus {
  return postingFee > 0 ? 'PENDING_PAYMENT' : 'ACTIVE';
}

export function initialStatus(options: { draft: boolean; postingFee: number }): ListingStatus {
  return options.draft ? 'DRAFT' : publishedStatus(options.postingFee);
}

/** A withdrawn listing is final: it cannot be edited (or charged). */
export function isEditable(status: ListingStatus): boolean {
  return status !== 'WITHDRAWN';
}

/** Everyone sees ACTIVE listings; whoever may change a listing (listing.change: its seller, an admin) sees it in every status. */
export function canView(viewer: Viewer, listing: { status: ListingStatus; sellerId: string }): boolean {
  return listing.status === 'ACTIVE' || allows(viewer, 'listing.change', listing.sellerId);
}
