import { Field, Int, ObjectType } from 'type-graphql';
import { toConnectionParts, type Page } from '../../../lib/pagination';
import { PageInfo } from '../../../lib/shared-types';
import type { UserRow } from '../db/schema';
import { User } from './user';

@ObjectType({ description: 'An edge in a users connection.' })
export class UserEdge {
  @Field({ description: 'Opaque cursor of this user; pass it as `after` to continue after it.' })
  cursor: string;

  @Field(() => User, { description: 'The user.' })
  node: User;
}

@ObjectType({ description: 'A page of users, newest first, with Relay-style cursors.' })
export class UserConnection {
  @Field(() => [UserEdge], { description: 'The users of this page with their cursors.' })
  edges: UserEdge[];

  @Field(() => [User], { description: 'The users of this page, without cursors.' })
  nodes: User[];

  @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
  pageInfo: PageInfo;

  @Field(() => Int, { description: 'How many users there are in all pages.' })
  totalCount: number;
}

export function toUserConnection(page: Page<UserRow>, hasPreviousPage: boolean, totalCount: number): UserConnection {
  return { ...toConnectionParts(page, hasPreviousPage, (row): User => row), totalCount };
}
