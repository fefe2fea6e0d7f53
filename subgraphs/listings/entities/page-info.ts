import { Directive, Field, ObjectType } from 'type-graphql';

@Directive('@shareable')
@ObjectType({ description: 'Relay-style pagination state of a connection.' })
export class PageInfo {
  @Field({ description: 'True when more items follow; fetch them with `after: endCursor`.' })
  hasNextPage: boolean;

  @Field({ description: 'True when this page was fetched with an `after` cursor.' })
  hasPreviousPage: boolean;

  @Field(() => String, { nullable: true, description: 'Cursor of the first item of this page.' })
  startCursor: string | null;

  @Field(() => String, { nullable: true, description: 'Cursor of the last item of this page; pass it as `after` for the next page.' })
  endCursor: string | null;
}
