import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from 'type-graphql';
import { BadUserInputError } from '../../../lib/errors';
import { pageSize } from '../../../lib/pagination';
import { authorize } from '../../../lib/permissions';
import type { ListingsContext } from '../context';
import { DeadEvent, toDeadEvent } from '../entities/dead-event';

/**
 * The dead-letter view of the whole event bus (every service's consumers share one pg-boss), served
 * by listings as the owner of the core entities. Admins only.
 */
@Resolver(() => DeadEvent)
export class DeadEventResolver {
  @Query(() => [DeadEvent], {
    description: 'Events consumers gave up on after their retries, newest first (every queue, or one). Admins only.',
  })
  async deadEvents(
    @Ctx() ctx: ListingsContext,
    @Arg('queue', () => String, { nullable: true, description: 'Only this consumer queue, e.g. `crm.user-changes`.' })
    queue?: string,
    @Arg('first', () => Int, { nullable: true, description: 'How many, 1–100. @default 50' }) first?: number,
  ): Promise<DeadEvent[]> {
    authorize(ctx.viewer, 'ops.events');
    return (await ctx.bus.deadLetters({ queue: queue ?? undefined, limit: pageSize(first ?? 50) })).map(toDeadEvent);
  }

  @Mutation(() => Int, {
    description:
      'Sends dead events back to their consumer with a fresh set of retries and returns how many; consumers skip what they already handled. Admins only.',
  })
  async replayDeadEvents(
    @Arg('ids', () => [ID], { description: 'Dead-letter ids from deadEvents.' }) ids: string[],
    @Ctx() ctx: ListingsContext,
  ): Promise<number> {
    authorize(ctx.viewer, 'ops.events');
    if (ids.length > 500)
      throw new BadUserInputError({ field: 'ids', message: 'replay at most 500 events at once' }, 'ids');
    return ctx.bus.replayDeadLetters(ids);
  }
}
