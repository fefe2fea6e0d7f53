import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { ReadableBy } from '../../../lib/permissions';
import { loadOrNull } from '../../../lib/loaders';
import { decodeCursor, pageSize } from '../../../lib/pagination';
import type { ListingsContext } from '../context';
import { ListingConnection, toListingConnection } from '../entities/listing-connection';
import { User } from '../entities/user';
import { UserConnection, toUserConnection } from '../entities/user-connection';
import { RegisterUserInput, UpdateUserInput } from './inputs';

@Resolver(() => User)
export class UserResolver {
  @Query(() => User, { description: 'One user by id (NOT_FOUND when there is none).' })
  user(@Arg('id', () => ID) id: string, @Ctx() ctx: ListingsContext): Promise<User> {
    return ctx.loaders.user.load(id);
  }

  @Query(() => UserConnection, {
    description: 'Every user, newest first (admins only): for back offices and bulk jobs such as the CRM sync.',
  })
  async users(
    @Ctx() ctx: ListingsContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. @default 20' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor to continue after.' }) after?: string,
  ): Promise<UserConnection> {
    const limit = pageSize(first);
    const cursor = after ? decodeCursor(after) : undefined;
    const { page, total } = await ctx.users.page(ctx.viewer, limit, cursor);
    return toUserConnection(page, Boolean(after), total);
  }

  @Query(() => User, {
    nullable: true,
    description: 'The signed-in user; null for anonymous callers and for identities not registered yet.',
  })
  viewer(@Ctx() ctx: ListingsContext): Promise<User | null> {
    return ctx.viewer.userId ? loadOrNull(ctx.loaders.user, ctx.viewer.userId) : Promise.resolve(null);
  }

  @ReadableBy<User>('user.email', (user) => user.id)
  @FieldResolver(() => String, {
    nullable: true,
    description: 'Email address: visible to the user themself and to admins, null for everyone else.',
  })
  email(@Root() user: User): string | null {
    return user.email;
  }

  @ReadableBy<User>('user.email', (user) => user.id)
  @FieldResolver(() => Boolean, {
    nullable: true,
    description:
      'Whether the user confirmed their email address (the link in the welcome or confirmation mail). Until then it gets only that mail and is not sent to the CRM. Visible with the email.',
  })
  emailVerified(@Root() user: User): boolean {
    return user.emailVerifiedAt !== null;
  }

  @FieldResolver(() => ListingConnection, {
    description:
      "The user's listings, newest first: all of them for the user and admins, ACTIVE ones for everyone else.",
  })
  async listings(
    @Root() user: User,
    @Ctx() ctx: ListingsContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. @default 20' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor to continue after.' }) after?: string,
  ): Promise<ListingConnection> {
    const limit = pageSize(first);
    if (after) decodeCursor(after); // a bad cursor is BAD_USER_INPUT before anything runs
    const page = await ctx.loaders.sellerListings.load({ sellerId: user.id, limit, after });
    return toListingConnection(page, Boolean(after), () => ctx.loaders.listingCount.load(user.id));
  }

  @FieldResolver(() => Int, {
    description:
      "How many of the user's listings the caller can see (all of them for the user and admins, ACTIVE ones for others).",
  })
  listingCount(@Root() user: User, @Ctx() ctx: ListingsContext): Promise<number> {
    return ctx.loaders.listingCount.load(user.id);
  }

  @Mutation(() => User, {
    description:
      'Registers a user. Anyone may call it; a signed-in identity that is not registered yet becomes this user (its token subject is the id). The address stays unconfirmed until the link mailed to it is used; the answer is the same whether or not another account has confirmed the address (the mail to it says which).',
  })
  registerUser(
    @Arg('input', () => RegisterUserInput) input: RegisterUserInput,
    @Ctx() ctx: ListingsContext,
  ): Promise<User> {
    return ctx.users.register(ctx.viewer, { name: input.name, email: input.email }, { requestId: ctx.requestId });
  }

  @Mutation(() => User, {
    description:
      'Confirms the address a user has now, with the token of the link in their welcome or confirmation mail (valid 72 hours). Anyone holding the link may; BAD_USER_INPUT for a forged, expired or outdated one, or an address another account confirmed first.',
  })
  confirmEmail(
    @Arg('token', { description: 'The `token` of the confirmation link.' }) token: string,
    @Ctx() ctx: ListingsContext,
  ): Promise<User> {
    return ctx.users.confirmEmail(token, ctx.emailConfirmationSecret, { requestId: ctx.requestId });
  }

  @Mutation(() => User, {
    description:
      'Changes a profile (a new email address must be confirmed again; the answer is the same whether or not another account has confirmed it). Only the user themself or an admin.',
  })
  updateUser(
    @Arg('id', () => ID) id: string,
    @Arg('input', () => UpdateUserInput) input: UpdateUserInput,
    @Ctx() ctx: ListingsContext,
  ): Promise<User> {
    return ctx.users.update(
      ctx.viewer,
      id,
      { name: input.name ?? undefined, email: input.email ?? undefined },
      { requestId: ctx.requestId },
    );
  }
}
