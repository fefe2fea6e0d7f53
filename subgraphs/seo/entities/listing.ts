import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The listings service owns Listing; seo adds what search engines see of it. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A classified listing.' })
export class Listing {
  @Field(() => ID, { description: 'Stable listing id (UUID).' })
  id: string;
}
