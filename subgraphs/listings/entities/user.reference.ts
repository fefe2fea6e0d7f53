import { loadOrNull } from '../../../lib/loaders';
import type { ListingsContext } from '../context';
import type { User } from './user';

/** Resolves `User` references from other subgraphs through the per-request loader; unknown ids resolve to null. */
export function resolveUserReference(reference: Pick<User, 'id'>, context: ListingsContext): Promise<User | null> {
  return loadOrNull(context.loaders.user, reference.id);
}
