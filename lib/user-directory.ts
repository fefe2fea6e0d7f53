import { SYSTEM_VIEWER, type InternalClient } from './entity-client';

/** A page of user ids from the owner of User, newest first. */
export interface UserIdPage {
  ids: string[];
  endCursor: string | null;
  hasNextPage: boolean;
  totalCount: number;
}
/** Reads every user id a page at a time (listings' admin `users` query). */
export type UserDirectory = (after: string | null, first: number) => Promise<UserIdPage>;

const USERS_PAGE = `query ($first: Int!, $after: String) {
  users(first: $first, after: $after) { nodes { id } pageInfo { endCursor hasNextPage } totalCount }
}`;

/**
 * Every user id, from listings (the owner of User), through its admin `users` query: for jobs that
 * must reach every user, including those registered before the job's own service existed.
 */
export function createListingsUserDirectory(listings: InternalClient): UserDirectory {
  return async (after, first) => {
    type Page = {
      users: {
        nodes: Array<{ id: string }>;
        pageInfo: { endCursor: string | null; hasNextPage: boolean };
        totalCount: number;
      };
    };
    const { users } = await listings<Page>(USERS_PAGE, { first, after }, SYSTEM_VIEWER);
    return {
      ids: users.nodes.map((n) => n.id),
      endCursor: users.pageInfo.endCursor,
      hasNextPage: users.pageInfo.hasNextPage,
      totalCount: users.totalCount,
    };
  };
}
