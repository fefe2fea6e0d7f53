import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The listings service owns User; the CRM adds the user's CRM contact. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A person who buys or sells on SayPro.' })
export class User {
  @Field(() => ID, { description: 'Stable user id (UUID).' })
  id: string;
}
