import { HttpError } from '../../lib/http';
import { requiredString, type RestOperation } from './rest-route';

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

const lower = (s: string) => s.toLowerCase();

export const emailRest: Record<string, RestOperation> = {
  /** POST /email/send { user_id | to, template, data?, idempotency_key? } (or an Idempotency-Key header). */
  '/email/send': {
    method: 'POST',
    query: SEND,
    variables: ({ body, headers }) => {
      const template = requiredString(body.template, 'template').toUpperCase();
      if (body.data !== undefined && (body.data === null || typeof body.data !== 'object' || Array.isArray(body.data))) {
        throw new HttpError(400, 'data must be an object', 'BAD_USER_INPUT', 'data');
      }
      const headerKey = typeof headers['idempotency-key'] === 'string' ? headers['idempotency-key'] : undefined;
      const key = typeof body.idempotency_key === 'string' ? body.idempotency_key : headerKey;
      return {
        input: {
          template,
          ...(typeof body.user_id === 'string' ? { userId: body.user_id } : {}),
          ...(typeof body.to === 'string' ? { to: body.to } : {}),
          ...(body.data !== undefined ? { data: body.data } : {}),
          ...(key ? { idempotencyKey: key } : {}),
        },
      };
    },
    respond: (data: { sendEmail: Record<string, any> }) => {
      const m = data.sendEmail;
      return {
        message_id: m.id,
        status: lower(m.status),
        status_reason: m.statusReason,
        template: lower(m.template),
        to: m.to,
        provider_message_id: m.providerMessageId,
        created_at: m.createdAt,
        sent_at: m.sentAt,
      };
    },
  },
  /** GET /email/campaign-status?campaign_id=… */
  '/email/campaign-status': {
    method: 'GET',
    query: CAMPAIGN,
    variables: ({ query }) => ({ id: requiredString(query.get('campaign_id') ?? undefined, 'campaign_id') }),
    subject: 'campaign',
    renames: { id: 'campaign_id' },
    respond: (data: { campaign: Record<string, any> | null }) => {
      const c = data.campaign;
      if (!c) return null;
      return { campaign_id: c.id, name: c.name, status: lower(c.status), recipients: c.recipients, created_at: c.createdAt, sent_at: c.sentAt, stats: c.stats };
    },
  },
};
