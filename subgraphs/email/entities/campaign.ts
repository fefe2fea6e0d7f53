import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ReadableBy } from '../../../lib/permissions';
import type { CampaignRow } from '../db/schema';
import type { CampaignStatus } from './enums';

@ObjectType({
  description:
    "A campaign's numbers, from our outbox and SendGrid's event webhook. Each counts recipients, not events.",
})
export class CampaignStats {
  @Field(() => Int, { description: 'Recipients it was queued for (including suppressed ones).' })
  recipients: number;

  @Field(() => Int, { description: 'Still waiting for SendGrid.' })
  queued: number;

  @Field(() => Int, { description: 'Accepted by SendGrid.' })
  sent: number;

  @Field(() => Int, { description: 'Delivered.' })
  delivered: number;

  @Field(() => Int, { description: 'Opened at least once.' })
  opened: number;

  @Field(() => Int, { description: 'Clicked at least once.' })
  clicked: number;

  @Field(() => Int, { description: 'Bounced or dropped.' })
  bounced: number;

  @Field(() => Int, { description: 'Unsubscribed from this campaign’s mail.' })
  unsubscribed: number;

  @Field(() => Int, { description: 'Not sent: opted out or suppressed.' })
  suppressed: number;

  @Field(() => Int, { description: 'Refused by SendGrid for good.' })
  failed: number;
}

@ObjectType({
  description: 'A marketing campaign: one promotion mailed to many users, each with their own unsubscribe link.',
})
export class Campaign {
  @Field(() => ID, { description: 'Campaign id.' })
  id: string;

  @Field({ description: 'Internal name.' })
  name: string;

  @Field({ description: 'Subject line.' })
  subject: string;

  @Field({ description: 'Headline of the mail.' })
  headline: string;

  @Field({ description: 'Body text (plain text; line breaks kept).' })
  body: string;

  @Field(() => String, { nullable: true, description: 'Label of the call-to-action button.' })
  ctaLabel: string | null;

  @Field(() => String, { nullable: true, description: 'Link of the call-to-action button.' })
  ctaUrl: string | null;

  @ReadableBy('email.campaign.read')
  @Field(() => [ID], {
    nullable: true,
    description:
      'The users it is for; null means every user who takes marketing mail (and null for a key that may only send campaigns).',
  })
  audience: string[] | null;

  @Field(() => Int, { description: 'Recipients it was queued for; 0 before sending.' })
  recipients: number;

  @Field({ description: 'When it was created.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When it was sent.' })
  sentAt: Date | null;

  /** Stored status; the resolver settles SENDING into SENT. */
  storedStatus: CampaignRow['status'];
  status?: CampaignStatus;
  stats?: CampaignStats;
}

export function toCampaign(row: CampaignRow): Campaign {
  return {
    id: row.id,
    name: row.name,
    subject: row.subject,
    headline: row.headline,
    body: row.body,
    ctaLabel: row.ctaLabel,
    ctaUrl: row.ctaUrl,
    audience: row.audience ?? null,
    recipients: row.recipients,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    storedStatus: row.status,
  };
}
