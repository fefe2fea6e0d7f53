import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { pageSize } from '../../../lib/pagination';
import { ReadableBy } from '../../../lib/permissions';
import type { CrmContext } from '../context';
import type { ContactRow } from '../db/schema';
import { READ_PROPERTIES } from '../domain/contact-mapping';
import { CrmContact, CrmProperty, CrmSyncStatus } from '../entities/crm-contact';
import type { CrmContact as RemoteContact } from '../provider/crm-gateway.port';
import { CrmSyncJob, toCrmSyncJob } from '../entities/crm-sync-job';
import { User } from '../entities/user';

/** Our row: the sync state. HubSpot's view is read by the fields that show it (below). */
function toContact(userId: string, row: ContactRow | null): CrmContact {
  return {
    userId,
    hubspotId: row?.hubspotId ?? null,
    syncStatus: (row?.syncStatus as CrmSyncStatus | undefined) ?? CrmSyncStatus.NEVER,
    lastSyncedAt: row?.lastSyncedAt ?? null,
    lastError: row?.lastError ?? null,
  };
}

const remoteReads = new WeakMap<CrmContact, Promise<RemoteContact | null>>();
/**
 * HubSpot's copy of the contact: one batch read for every contact of the request that asks for
 * HubSpot's fields, none when no field asks. Unreachable HubSpot answers with our state only.
 */
function remoteOf(contact: CrmContact, ctx: CrmContext): Promise<RemoteContact | null> {
  let read = remoteReads.get(contact);
  if (!read) {
    read = contact.hubspotId
      ? ctx.loaders.hubspot.load(contact.hubspotId).catch((err: unknown) => {
          ctx.logger.warn(
            { error: (err as Error).name, status: (err as { code?: unknown }).code ?? null },
            'HubSpot read failed; answering with our sync state only',
          );
          return null;
        })
      : Promise.resolve(null);
    remoteReads.set(contact, read);
  }
  return read;
}

/** What HubSpot holds is for readers of the contact (crm.contact.read), in every payload: null, and no read, for others. */
const contactReader = () => ReadableBy<CrmContact>('crm.contact.read', (contact) => contact.userId);

@Resolver(() => CrmContact)
export class CrmContactRemoteResolver {
  @contactReader()
  @FieldResolver(() => String, {
    nullable: true,
    description: "HubSpot's lifecycle stage (subscriber, lead, customer …).",
  })
  async lifecycleStage(@Root() contact: CrmContact, @Ctx() ctx: CrmContext): Promise<string | null> {
    return (await remoteOf(contact, ctx))?.properties.lifecyclestage ?? null;
  }

  @contactReader()
  @FieldResolver(() => [CrmProperty], {
    nullable: true,
    description:
      'The mapped properties as HubSpot holds them (empty when not synced or HubSpot is unreachable; null for callers who may not read the contact).',
  })
  async properties(@Root() contact: CrmContact, @Ctx() ctx: CrmContext): Promise<CrmProperty[]> {
    const remote = await remoteOf(contact, ctx);
    return remote
      ? READ_PROPERTIES.filter((p) => p !== 'lifecyclestage').map((name) => ({
          name,
          value: remote.properties[name] ?? null,
        }))
      : [];
  }
}

@Resolver(() => User)
export class UserCrmResolver {
  @ReadableBy<User>('crm.contact.read', (user) => user.id)
  @FieldResolver(() => CrmContact, {
    nullable: true,
    description: "The user's CRM contact; for the user and admins (null for others).",
  })
  async crmContact(@Root() user: User, @Ctx() ctx: CrmContext): Promise<CrmContact | null> {
    return toContact(user.id, await ctx.loaders.contact.load(user.id));
  }
}

@Resolver()
export class CrmResolver {
  @Query(() => CrmContact, {
    description:
      "A user's CRM contact (GET /crm/user-data). The user themself or an admin; NOT_FOUND for a user that does not exist.",
  })
  async crmContact(@Arg('userId', () => ID) userId: string, @Ctx() ctx: CrmContext): Promise<CrmContact> {
    return toContact(userId, await ctx.crm.contactOf(ctx.viewer, userId, () => ctx.loaders.contact.load(userId)));
  }

  @Query(() => [CrmContact], {
    description:
      'Contacts whose sync stopped retrying (FAILED), most recent first, with their last error. Admins only.',
  })
  async crmFailedSyncs(
    @Ctx() ctx: CrmContext,
    @Arg('first', () => Int, { nullable: true, description: 'How many, 1–100. @default 50' }) first?: number,
  ): Promise<CrmContact[]> {
    const rows = await ctx.crm.failed(ctx.viewer, pageSize(first ?? 50));
    return rows.map((row) => toContact(row.userId, row));
  }

  @Mutation(() => Int, {
    description: 'Queues failed CRM syncs again (all of them, or the given users) and returns how many. Admins only.',
  })
  retryFailedCrmSyncs(
    @Ctx() ctx: CrmContext,
    @Arg('userIds', () => [ID], { nullable: true, description: 'Only these users; all failed ones when omitted.' })
    userIds?: string[],
  ): Promise<number> {
    return ctx.crm.retryFailed(ctx.viewer, userIds);
  }

  @Mutation(() => CrmContact, {
    description:
      'Sends the user to the CRM now: upsert by email with name, listing count and payment totals (POST /crm/add-user). Idempotent. The user themself or an admin (or a crm:write key). Answers the sync state; what HubSpot holds only to those who may read the contact.',
  })
  async syncUserToCrm(@Arg('userId', () => ID) userId: string, @Ctx() ctx: CrmContext): Promise<CrmContact> {
    const row = await ctx.crm.syncNow(ctx.viewer, userId);
    return toContact(userId, row);
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
