import { loadOrNull } from '../../../lib/loaders';
import { canView } from '../domain/listing-lifecycle';
import type { ListingsContext } from '../context';
import { toListing } from './listing.mapper';
import type { Listing } from './listing';

/**
 * Resolves `Listing` references from other subgraphs through the per-request loader. A listing the
 * viewer may not see resolves to null, as if it did not exist.
 */
export async function resolveListingReference(
  reference: Pick<Listing, 'id'>,
  context: ListingsContext,
): Promise<Listing | null> {
  const row = await loadOrNull(context.loaders.listing, reference.id);
  return row && canView(context.viewer, row) ? toListing(row) : null;
}
