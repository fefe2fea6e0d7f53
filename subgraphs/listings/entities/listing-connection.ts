import { Field, ObjectType } from 'type-graphql';
import { toConnectionParts, type Page } from '../../../lib/pagination';
import type { ListingRow } from '../db/schema';
import { Listing } from './listing';
import { toListing } from './listing.mapper';
import { PageInfo } from '../../../lib/shared-types';

@ObjectType({ description: 'An edge in a listings connection.' })
export class ListingEdge {
  @Field({ description: 'Opaque cursor of this listing; pass it as `after` to continue after it.' })
  cursor: string;

  @Field(() => Listing, { description: 'The listing.' })
  node: Listing;
}

@ObjectType({ description: 'A page of listings, newest first, with Relay-style cursors.' })
export class ListingConnection {
  @Field(() => [ListingEdge], { description: 'The listings of this page with their cursors.' })
  edges: ListingEdge[];

  @Field(() => [Listing], { description: 'The listings of this page, without cursors.' })
  nodes: Listing[];

  @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
  pageInfo: PageInfo;

  /** Set by the resolver so `totalCount` can run its count only when asked. */
  countTotal?: () => Promise<number>;
}

export function toListingConnection(
  page: Page<ListingRow>,
  hasPreviousPage: boolean,
  countTotal?: () => Promise<number>,
): ListingConnection {
  return { ...toConnectionParts(page, hasPreviousPage, toListing), countTotal };
}
