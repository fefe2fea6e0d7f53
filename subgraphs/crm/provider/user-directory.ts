import { SYSTEM_VIEWER, type InternalClient } from '../../../lib/entity-client';
import type { UserDirectory } from '../domain/bulk-sync.service';

const USERS_PAGE = `query ($first: Int!, $after: String) {
  users(first: $first, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } totalCount }
}`;

/** Every user id, from listings (the owner of User), through its admin `users` query. */
export function createListingsUserDirectory(listings: InternalClient): UserDirectory {
  return async (after, first) => {
    type Page = { users: { nodes: Array<{ id: string }>; pageInfo: { endCursor: string | null; hasNextPage: boolean }; totalCount: number } };
    const { users } = await listings<Page>(USERS_PAGE, { first, after }, SYSTEM_VIEWER);
    return { ids: users.nodes.map((n) => n.id), endCursor: users.pageInfo.endCursor, hasNextPage: users.pageInfo.hasNextPage, totalCount: users.totalCount };
  };
}
