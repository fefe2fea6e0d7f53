import { Directive, Field, ID, ObjectType } from 'type-graphql';

@Directive('@key(fields: "id")')
@ObjectType({
  description: 'A person who buys or sells on SayPro. Owned by the listings service; other services add fields.',
})
export class User {
  @Field(() => ID, { description: 'Stable user id (UUID).' })
  id: string;

  @Field({ description: 'Display name.' })
  name: string;

  /** Shown only to the user themself and to admins; see UserResolver.email. */
  email: string;

  /** Set once the user confirmed `email`; see UserResolver.emailVerified. */
  emailVerifiedAt: Date | null;

  @Field({ description: 'When the user registered.' })
  createdAt: Date;

  @Field({ description: 'When the profile last changed.' })
  updatedAt: Date;
}
