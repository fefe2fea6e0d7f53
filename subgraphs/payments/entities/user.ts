import { Directive, Field, ID, ObjectType } from 'type-graphql';

/** The listings service owns User; payments adds payment history and totals. */
@Directive('@key(fields: "id")')
@ObjectType({ description: 'A person who buys or sells on SayPro.' })
export class User {
  @Field(() => ID, { description: 'Stable user id (UUID).' })
  id: string;
}
