import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { pageSize } from '../../../lib/pagination';
import { allows, authorize, ReadableBy } from '../../../lib/permissions';
import type { CrmContext } from '../context';
import type { ContactRow } from '../db/schema';
import { READ_PROPERTIES } from '../domain/contact-mapping';
import { CrmContact, CrmSyncStatus } from '../entities/crm-contact';
import { CrmSyncJob, toCrmSyncJob } from '../entities/crm-sync-job';
import { User } from '../entities/user';

/** Our row plus HubSpot's view (one batch read for every contact in the request; none for a caller who may not read it). */
async function toContact(userId: string, row: ContactRow | null, ctx: CrmContext): Promise<CrmContact> {
  let remote = null;
  if (row?.hubspotId && allows(ctx.viewer, 'crm.contact.read', userId)) {
    try {
      remote = await ctx.loaders.hubspot.load(row.hubspotId);
    } catch (err) {
      ctx.logger.warn({ error: (err as Error).name, status: (err as { code?: unknown }).code ?? null }, 'HubSpot read failed; answering with our sync state only');
    }
  }
  return {
    userId,
    hubspotId: row?.hubspotId ?? null,
    syncStatus: (row?.syncStatus as CrmSyncStatus | undefined) ?? CrmSyncStatus.NEVER,
    lastSyncedAt: row?.lastSyncedAt ?? null,
    lastError: row?.lastError ?? null,
    lifecycleStage: remote?.properties.lifecyclestage ?? null,
    properties: remote ? READ_PROPERTIES.filter((p) => p !== 'lifecyclestage').map((name) => ({ name, value: remote.properties[name] ?? null })) : [],
  };
}

@Resolver(() => User)
export class UserCrmResolver {
  @ReadableBy<User>('crm.contact.read', (user) => user.id)
  @FieldResolver(() => CrmContact, { nullable: true, description: "The user's CRM contact; for the user and admins (null for others)." })
  async crmContact(@Root() user: User, @Ctx() ctx: CrmContext): Promise<CrmContact | null> {
    return toContact(user.id, await ctx.loaders.contact.load(user.id), ctx);
  }
}

@Resolver()
export class CrmResolver {
  @Query(() => CrmContact, { description: "A user's CRM contact (GET /crm/user-data). The user themself or an admin." })
  async crmContact(@Arg('userId', () => ID) userId: string, @Ctx() ctx: CrmContext): Promise<CrmContact> {
    authorize(ctx.viewer, 'crm.contact.read', userId);
    return toContact(userId, await ctx.loaders.contact.load(userId), ctx);
  }

  @Query(() => [CrmContact], { description: 'Contacts whose sync stopped retrying (FAILED), most recent first, with their last error. Admins only.' })
  async crmFailedSyncs(
    @Ctx() ctx: CrmContext,
    @Arg('first', () => Int, { nullable: true, description: 'How many, 1–100. @default 50' }) first?: number,
  ): Promise<CrmContact[]> {
    const rows = await ctx.crm.failed(ctx.viewer, pageSize(first ?? 50));
    return Promise.all(rows.map((row) => toContact(row.userId, row, ctx)));
  }

  @Mutation(() => Int, { description: 'Queues failed CRM syncs again (all of them, or the given users) and returns how many. Admins only.' })
  retryFailedCrmSyncs(
    @Ctx() ctx: CrmContext,
    @Arg('userIds', () => [ID], { nullable: true, description: 'Only these users; all failed ones when omitted.' }) userIds?: string[],
  ): Promise<number> {
    return ctx.crm.retryFailed(ctx.viewer, userIds);
  }

  @Mutation(() => CrmContact, {
    description: 'Sends the user to the CRM now: upsert by email with name, listing count and payment totals (POST /crm/add-user). Idempotent. The user themself or an admin (or a crm:write key). Answers the sync state; what HubSpot holds only to those who may read the contact.',
  })
  async syncUserToCrm(@Arg('userId', () => ID) userId: string, @Ctx() ctx: CrmContext): Promise<CrmContact> {
    const row = await ctx.crm.syncNow(ctx.viewer, userId);
    return toContact(userId, row, ctx);
  }

  @Mutation(() => CrmSyncJob, {
    description:
      'Syncs every user to the CRM in the background, 100 per HubSpot call within its rate limit, and returns the job to follow with crmSyncJob. If one is already running, returns that one. Admins only.',
  })
  async syncAllUsersToCrm(@Ctx() ctx: CrmContext): Promise<CrmSyncJob> {
    return toCrmSyncJob(await ctx.bulk.start(ctx.viewer));
  }

  @Query(() => CrmSyncJob, { description: 'A bulk CRM sync job: its state and progress. Admins only.' })
  async crmSyncJob(@Arg('id', () => ID) id: string, @Ctx() ctx: CrmContext): Promise<CrmSyncJob> {
    return toCrmSyncJob(await ctx.bulk.get(ctx.viewer, id));
  }
}
