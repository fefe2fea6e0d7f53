import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { pageSize } from '../../../lib/pagination';
import { ReadableBy } from '../../../lib/permissions';
import type { AnalyticsContext } from '../context';
import { AnalyticsBacklog, AnalyticsConsent } from '../entities/analytics';
import { User } from '../entities/user';

@Resolver(() => User)
export class UserAnalyticsResolver {
  @ReadableBy<User>('analytics.consent.read', (user) => user.id)
  @FieldResolver(() => AnalyticsConsent, {
    nullable: true,
    description: "The user's analytics consent; for the user and admins (null for others).",
  })
  analyticsConsent(@Root() user: User, @Ctx() ctx: AnalyticsContext): Promise<AnalyticsConsent> {
    return ctx.loaders.consent.load(user.id);
  }
}

@Resolver()
export class AnalyticsResolver {
  @Mutation(() => AnalyticsConsent, {
    description:
      'Records whether events about the user go to Google Analytics. Granting sends the events that waited for the decision; declining drops every one not yet sent. The user themself or an admin; NOT_FOUND for a user that does not exist.',
  })
  setAnalyticsConsent(
    @Arg('userId', () => ID) userId: string,
    @Arg('granted', { description: 'True to allow analytics, false to refuse it.' }) granted: boolean,
    @Ctx() ctx: AnalyticsContext,
  ): Promise<AnalyticsConsent> {
    return ctx.analytics.setConsent(ctx.viewer, userId, granted);
  }

  @Query(() => AnalyticsBacklog, {
    description:
      'The delivery of events to Google Analytics: what waits, what failed, the latest validation messages and requests. Admins only.',
  })
  analyticsBacklog(
    @Ctx() ctx: AnalyticsContext,
    @Arg('recent', () => Int, { nullable: true, description: 'How many recent requests, 1–100. @default 20' })
    recent?: number,
  ): Promise<AnalyticsBacklog> {
    return ctx.analytics.backlog(ctx.viewer, pageSize(recent ?? 20, 'recent'));
  }
}
