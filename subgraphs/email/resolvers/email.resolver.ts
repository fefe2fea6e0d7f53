import { Arg, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { allows, ReadableBy } from '../../../lib/permissions';
import { NotFoundError } from '../../../lib/errors';
import { pageSize } from '../../../lib/pagination';
import type { EmailContext } from '../context';
import type { PreferencesRow } from '../db/schema';
import { Campaign, CampaignStats, toCampaign } from '../entities/campaign';
import { EmailMessage, EmailMessageConnection, toEmailConnection, toEmailMessage } from '../entities/email-message';
import { EmailPreferences } from '../entities/email-preferences';
import { CampaignStatus, type ListingCategory, type SuppressionReason } from '../entities/enums';
import { User } from '../entities/user';
import { CreateCampaignInput, EmailPreferencesInput, SendEmailInput } from './inputs';

async function toPreferences(row: PreferencesRow, ctx: EmailContext): Promise<EmailPreferences> {
  const address = await ctx.loaders.address.load(row.userId);
  const suppression = address ? await ctx.loaders.suppression.load(address.toLowerCase()) : null;
  return {
    marketing: row.marketing,
    accountUpdates: row.accountUpdates,
    newListingAlerts: {
      enabled: row.alertsEnabled,
      categories: row.alertCategories as ListingCategory[],
      keywords: row.alertKeywords,
    },
    suppressed: (suppression?.reason as SuppressionReason | undefined) ?? null,
    suppressedAt: suppression?.createdAt ?? null,
  };
}

@Resolver(() => User)
export class UserEmailResolver {
  @ReadableBy<User>('email.user.read', (user) => user.id)
  @FieldResolver(() => EmailPreferences, {
    nullable: true,
    description: "The user's mail preferences; for the user and admins (null for others).",
  })
  async emailPreferences(@Root() user: User, @Ctx() ctx: EmailContext): Promise<EmailPreferences | null> {
    return toPreferences(await ctx.loaders.preferences.load(user.id), ctx);
  }

  @ReadableBy<User>('email.user.read', (user) => user.id)
  @FieldResolver(() => EmailMessageConnection, {
    nullable: true,
    description:
      'Mail sent to the user, newest first, with its delivery state; for the user and admins (null for others).',
  })
  async emails(
    @Root() user: User,
    @Ctx() ctx: EmailContext,
    @Arg('first', () => Int, { nullable: true, description: 'Page size, 1–100. @default 20' }) first?: number,
    @Arg('after', () => String, { nullable: true, description: 'Cursor (pageInfo.endCursor) to continue after.' })
    after?: string,
  ): Promise<EmailMessageConnection | null> {
    const limit = pageSize(first);
    return toEmailConnection(await ctx.email.messagesOf(user.id, limit, after), Boolean(after));
  }
}

@Resolver(() => Campaign)
export class CampaignResolver {
  @FieldResolver(() => CampaignStatus, { description: 'DRAFT, SENDING while mail waits for SendGrid, then SENT.' })
  async status(@Root() campaign: Campaign, @Ctx() ctx: EmailContext): Promise<CampaignStatus> {
    return (await ctx.email.campaignStatus({ id: campaign.id, status: campaign.storedStatus })) as CampaignStatus;
  }

  @ReadableBy('email.campaign.read')
  @FieldResolver(() => CampaignStats, {
    nullable: true,
    description:
      'Sent, delivered, opened, clicked, bounced and unsubscribed recipients; for readers of campaigns (null for a key that may only send them).',
  })
  stats(@Root() campaign: Campaign, @Ctx() ctx: EmailContext): Promise<CampaignStats> {
    return ctx.email.campaignStats(campaign.id);
  }
}

@Resolver()
export class EmailResolver {
  @Mutation(() => EmailMessage, {
    description:
      "Renders a template and sends it (POST /email/send). Returns the message with its status: SENT when SendGrid took it, QUEUED while SendGrid is unavailable (retried with backoff), SUPPRESSED when preferences forbid it, FAILED when SendGrid refused it. Admins, SayPro services and email:send keys; the address, subject and status reason come back only to those who may read the recipient's mail.",
  })
  async sendEmail(
    @Arg('input', () => SendEmailInput, { description: 'Recipient, template and data.' }) input: SendEmailInput,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailMessage> {
    return toEmailMessage(await ctx.email.sendEmail(ctx.viewer, input));
  }

  @Query(() => EmailMessage, { description: 'One mail and its delivery state. Admins, or the user it was sent to.' })
  async emailMessage(
    @Arg('id', () => ID, { description: 'Message id.' }) id: string,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailMessage> {
    const row = await ctx.email.message(id);
    // Someone else's mail is NOT_FOUND, not FORBIDDEN: its id tells nothing.
    if (!row || !allows(ctx.viewer, 'email.user.read', row.userId)) throw new NotFoundError('EmailMessage', id);
    return toEmailMessage(row);
  }

  @Mutation(() => EmailPreferences, {
    description: "Changes a user's mail preferences. The user themself or an admin.",
  })
  async updateEmailPreferences(
    @Arg('userId', () => ID, { description: 'Whose preferences.' }) userId: string,
    @Arg('input', () => EmailPreferencesInput, { description: 'What to change.' }) input: EmailPreferencesInput,
    @Ctx() ctx: EmailContext,
  ): Promise<EmailPreferences> {
    return toPreferences(await ctx.email.updatePreferences(ctx.viewer, userId, input), ctx);
  }

  @Mutation(() => Campaign, { description: 'Creates a campaign as a DRAFT. Admins only.' })
  async createCampaign(
    @Arg('input', () => CreateCampaignInput, { description: 'Content and audience.' }) input: CreateCampaignInput,
    @Ctx() ctx: EmailContext,
  ): Promise<Campaign> {
    return toCampaign(await ctx.email.createCampaign(ctx.viewer, input));
  }

  @Mutation(() => Campaign, {
    description: 'Queues a DRAFT campaign for its recipients (CONFLICT if it was already sent). Admins only.',
  })
  async sendCampaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() ctx: EmailContext,
  ): Promise<Campaign> {
    return toCampaign(await ctx.email.sendCampaign(ctx.viewer, id));
  }

  @Query(() => Campaign, {
    description: 'A campaign with its status and stats (GET /email/campaign-status). Admins only.',
  })
  async campaign(
    @Arg('id', () => ID, { description: 'Campaign id.' }) id: string,
    @Ctx() ctx: EmailContext,
  ): Promise<Campaign> {
    return toCampaign(await ctx.email.campaign(ctx.viewer, id));
  }
}
