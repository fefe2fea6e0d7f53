import { Field, ID, Int, ObjectType } from 'type-graphql';
import { ReadableBy } from '../../../lib/permissions';
import { PageInfo } from '../../../lib/shared-types';
import { encodeCursor, type Page } from '../../../lib/pagination';
import type { MessageRow } from '../db/schema';
import { EmailKind, EmailStatus, EmailTemplate } from './enums';

/** Who the mail went to and what it said are the recipient's (email.user.read), in every payload. */
const recipientReader = () => ReadableBy<EmailMessage>('email.user.read', (message) => message.userId);

@ObjectType({
  description:
    'One mail to one recipient, and what became of it. Its address, subject and status reason are for the recipient, admins and email:read keys (null for others, senders included).',
})
export class EmailMessage {
  @Field(() => ID, { description: 'Our message id (also in SendGrid as the custom arg saypro_message_id).' })
  id: string;

  @Field(() => EmailTemplate, { description: 'The template it was rendered from.' })
  template: EmailTemplate;

  @Field(() => EmailKind, { description: 'Transactional, account or marketing mail.' })
  kind: EmailKind;

  @recipientReader()
  @Field(() => String, { nullable: true, description: 'Recipient address.' })
  to: string;

  @Field(() => ID, { nullable: true, description: 'The recipient user, when the mail went to one of our users.' })
  userId: string | null;

  @recipientReader()
  @Field(() => String, { nullable: true, description: 'Subject line as sent.' })
  subject: string;

  @Field(() => EmailStatus, { description: 'Delivery state.' })
  status: EmailStatus;

  @recipientReader()
  @Field(() => String, { nullable: true, description: 'Why it failed, was suppressed or is being retried.' })
  statusReason: string | null;

  @Field(() => String, {
    nullable: true,
    description: "SendGrid's message id (X-Message-Id) once it accepted the mail.",
  })
  providerMessageId: string | null;

  @Field(() => Int, { description: 'Attempts to hand it to SendGrid.' })
  attempts: number;

  @Field(() => ID, { nullable: true, description: 'The campaign it belongs to, if any.' })
  campaignId: string | null;

  @Field({ description: 'When it was queued.' })
  createdAt: Date;

  @Field(() => Date, { nullable: true, description: 'When SendGrid accepted it.' })
  sentAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was delivered.' })
  deliveredAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it was first opened.' })
  openedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When a link in it was first clicked.' })
  clickedAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'When it bounced.' })
  bouncedAt: Date | null;
}

export function toEmailMessage(row: MessageRow): EmailMessage {
  return {
    id: row.id,
    template: row.template as EmailTemplate,
    kind: row.kind as EmailKind,
    to: row.toEmail,
    userId: row.userId,
    subject: row.subject,
    status: row.status as EmailStatus,
    statusReason: row.lastError,
    providerMessageId: row.providerMessageId,
    attempts: row.attempts,
    campaignId: row.campaignId,
    createdAt: row.createdAt,
    sentAt: row.sentAt,
    deliveredAt: row.deliveredAt,
    openedAt: row.openedAt,
    clickedAt: row.clickedAt,
    bouncedAt: row.bouncedAt,
  };
}

@ObjectType({ description: 'A page of mail, newest first.' })
export class EmailMessageConnection {
  @Field(() => [EmailMessage], { description: 'The mail of this page.' })
  nodes: EmailMessage[];

  @Field(() => PageInfo, { description: 'Where this page sits in the whole list.' })
  pageInfo: PageInfo;
}

export function toEmailConnection(page: Page<MessageRow>, hasPreviousPage: boolean): EmailMessageConnection {
  const cursors = page.nodes.map((row) => encodeCursor(row));
  return {
    nodes: page.nodes.map(toEmailMessage),
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage,
      startCursor: cursors[0] ?? null,
      endCursor: cursors.at(-1) ?? null,
    },
  };
}
