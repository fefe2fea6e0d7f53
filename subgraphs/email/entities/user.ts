import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The listings service owns User; email adds the user's mail preferences and the mail sent to them. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A person who buys or sells on SayPro.' })
export class User {
  @Field(() => ID, { description: 'Stable user id (UUID).' })
  id: string;
}
