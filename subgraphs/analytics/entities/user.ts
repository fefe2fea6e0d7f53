import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The listings service owns User; analytics adds the user's analytics consent. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A person who buys or sells on SayPro.' })
export class User {
  @Field(() => ID, { description: 'Stable user id (UUID).' })
  id: string;
}
