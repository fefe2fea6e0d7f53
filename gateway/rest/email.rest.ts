import { z } from 'zod/v4';
import { restOperation, type RestOperation } from './rest-route';
import { dateTime, idempotencyHeaders, requiredText, restEnum } from './rest-schema';

/**
 * The seed's email endpoints. POST /email/send takes snake_case like the other seed endpoints;
 * the template name may be given in any case (`promotion` or `PROMOTION`).
 */
const SEND = `mutation SeedEmailSend($input: SendEmailInput!) {
  sendEmail(input: $input) { id status statusReason template to providerMessageId createdAt sentAt }
}`;
const CAMPAIGN = `query SeedEmailCampaignStatus($id: ID!) {
  campaign(id: $id) { id name status recipients createdAt sentAt stats { recipients queued sent delivered opened clicked bounced unsubscribed suppressed failed } }
}`;

const template = restEnum({ name: 'EmailTemplate' }, 'The template (any case on the way in); each takes its own data.');
const emailStatus = restEnum({ name: 'EmailStatus' }, 'Where the mail is.');
const campaignStatus = restEnum({ name: 'CampaignStatus' }, 'Where the campaign is.');
const count = (description: string) => z.number().int().meta({ description });

const send = restOperation({
  method: 'POST',
  summary: 'Send a mail from a template',
  description:
    'Renders a template with its data and sends it through SendGrid, to a user (their confirmed address) or to an address: give exactly one of user_id or to.',
  permission: 'email.send',
  request: z.object({
    template: template.required,
    user_id: z.string().optional().meta({ description: 'The user to mail.' }),
    to: z.string().optional().meta({ description: 'An address to mail, instead of a user.' }),
    data: z
      .record(z.string(), z.unknown())
      .optional()
      .meta({ description: "The template's data (its fields are named in the template's description in the graph)." }),
    idempotency_key: z
      .string()
      .optional()
      .meta({ description: 'Makes a retried request the same mail; the Idempotency-Key header does the same.' }),
  }),
  headers: idempotencyHeaders,
  response: z.object({
    message_id: z.string(),
    status: emailStatus.schema,
    status_reason: z.string().nullable().meta({ description: 'Why it was not sent, when it was not.' }),
    template: template.schema,
    to: z.string().nullable(),
    provider_message_id: z.string().nullable().meta({ description: "SendGrid's id for the mail, once handed over." }),
    created_at: dateTime('When it was queued.'),
    sent_at: dateTime('When SendGrid took it.').nullable(),
  }),
  errors: ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PROVIDER_UNAVAILABLE'],
  document: SEND,
  variables: (body, headers) => {
    const key = body.idempotency_key ?? headers['idempotency-key'];
    return {
      input: {
        template: body.template.toUpperCase(),
        ...(body.user_id !== undefined ? { userId: body.user_id } : {}),
        ...(body.to !== undefined ? { to: body.to } : {}),
        ...(body.data !== undefined ? { data: body.data } : {}),
        ...(key ? { idempotencyKey: key } : {}),
      },
    };
  },
  respond: (data: { sendEmail: Record<string, any> }) => {
    const m = data.sendEmail;
    return {
      message_id: m.id,
      status: emailStatus.rest(m.status),
      status_reason: m.statusReason,
      template: template.rest(m.template),
      to: m.to,
      provider_message_id: m.providerMessageId,
      created_at: m.createdAt,
      sent_at: m.sentAt,
    };
  },
});

const campaignStatusRead = restOperation({
  method: 'GET',
  summary: 'Read a campaign and its delivery counts',
  description:
    'A campaign: its status and what became of its mail so far (queued, sent, delivered, opened, clicked, bounced, …).',
  permission: 'email.campaign.read',
  request: z.object({ campaign_id: requiredText('The campaign (createCampaign in the graph answers its id).') }),
  response: z.object({
    campaign_id: z.string(),
    name: z.string(),
    status: campaignStatus.schema,
    recipients: count('How many users it is for.'),
    created_at: dateTime('When it was created.'),
    sent_at: dateTime('When it was sent.').nullable(),
    stats: z
      .object({
        recipients: count('Mails made for it.'),
        queued: count('Waiting for SendGrid.'),
        sent: count('Handed to SendGrid.'),
        delivered: count("Accepted by the recipient's server."),
        opened: count('Opened.'),
        clicked: count('A link in it was clicked.'),
        bounced: count('Refused by the recipient server.'),
        unsubscribed: count('The recipient unsubscribed from it.'),
        suppressed: count('Not sent: the address is suppressed.'),
        failed: count('Could not be sent.'),
      })
      .nullable()
      .meta({ description: 'Null before it is sent.' }),
  }),
  errors: ['FORBIDDEN'],
  document: CAMPAIGN,
  variables: (query) => ({ id: query.campaign_id }),
  subject: 'campaign',
  renames: { id: 'campaign_id' },
  respond: (data: { campaign: Record<string, any> | null }) => {
    const c = data.campaign;
    if (!c) return null;
    return {
      campaign_id: c.id,
      name: c.name,
      status: campaignStatus.rest(c.status),
      recipients: c.recipients,
      created_at: c.createdAt,
      sent_at: c.sentAt,
      stats: c.stats,
    };
  },
});

export const emailRest: Record<string, RestOperation> = {
  '/email/send': send,
  '/email/campaign-status': campaignStatusRead,
};
