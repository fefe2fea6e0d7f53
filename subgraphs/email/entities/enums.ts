import { registerEnumType } from 'type-graphql';
import { TEMPLATE_NAMES, TEMPLATES, type TemplateName } from '../domain/templates';

export const EmailTemplate = Object.fromEntries(TEMPLATE_NAMES.map((t) => [t, t])) as { [K in TemplateName]: K };
export type EmailTemplate = TemplateName;
registerEnumType(EmailTemplate, {
  name: 'EmailTemplate',
  description:
    'The mail templates kept in the repository (subgraphs/email/templates). Each needs its own `data` fields.',
  valuesConfig: Object.fromEntries(
    TEMPLATE_NAMES.map((t) => [
      t,
      {
        description: `${TEMPLATES[t].description} Data: ${TEMPLATES[t].fields.map((f) => (f.required === false ? `${f.name}?` : f.name)).join(', ')}.`,
      },
    ]),
  ),
});

export enum EmailStatus {
  QUEUED = 'QUEUED',
  SENDING = 'SENDING',
  SENT = 'SENT',
  DELIVERED = 'DELIVERED',
  OPENED = 'OPENED',
  CLICKED = 'CLICKED',
  BOUNCED = 'BOUNCED',
  DROPPED = 'DROPPED',
  SPAM_REPORTED = 'SPAM_REPORTED',
  FAILED = 'FAILED',
  SUPPRESSED = 'SUPPRESSED',
}
registerEnumType(EmailStatus, {
  name: 'EmailStatus',
  description: 'Where a mail is, from our outbox to the recipient.',
  valuesConfig: {
    QUEUED: {
      description: 'Waiting to be handed to SendGrid (also while SendGrid is unavailable: it is retried with backoff).',
    },
    SENDING: { description: 'Being handed to SendGrid right now.' },
    SENT: { description: 'SendGrid accepted it.' },
    DELIVERED: { description: "The recipient's mail server accepted it." },
    OPENED: { description: 'The recipient opened it.' },
    CLICKED: { description: 'The recipient clicked a link in it.' },
    BOUNCED: { description: 'The recipient server refused it; the address gets no more marketing mail.' },
    DROPPED: { description: 'SendGrid did not send it (a suppressed or invalid address); see statusReason.' },
    SPAM_REPORTED: { description: 'The recipient reported it as spam; they get no more marketing mail.' },
    FAILED: { description: 'SendGrid refused it for good (a validation error); see statusReason. Not retried.' },
    SUPPRESSED: {
      description: 'Not sent: the recipient opted out, unsubscribed, bounced or reported spam; see statusReason.',
    },
  },
});

export enum EmailKind {
  TRANSACTIONAL = 'TRANSACTIONAL',
  ACCOUNT = 'ACCOUNT',
  MARKETING = 'MARKETING',
}
registerEnumType(EmailKind, {
  name: 'EmailKind',
  description: 'What kind of mail it is, which decides which preferences apply.',
  valuesConfig: {
    TRANSACTIONAL: { description: 'Welcome, receipts, listing notices: always sent.' },
    ACCOUNT: { description: 'Account updates: sent unless the user turned them off.' },
    MARKETING: {
      description:
        'Promotions, campaigns and new-listing alerts: need consent, carry an unsubscribe link, never go to suppressed addresses.',
    },
  },
});

export enum SuppressionReason {
  UNSUBSCRIBED = 'UNSUBSCRIBED',
  BOUNCED = 'BOUNCED',
  SPAM_REPORTED = 'SPAM_REPORTED',
}
registerEnumType(SuppressionReason, {
  name: 'SuppressionReason',
  description:
    'Why an address gets no marketing mail, as learned from unsubscribe links and the SendGrid event webhook.',
  valuesConfig: {
    UNSUBSCRIBED: { description: 'Unsubscribed through a mail link or at SendGrid.' },
    BOUNCED: { description: 'Mail to the address bounced.' },
    SPAM_REPORTED: { description: 'The recipient reported our mail as spam.' },
  },
});

export enum CampaignStatus {
  DRAFT = 'DRAFT',
  SENDING = 'SENDING',
  SENT = 'SENT',
}
registerEnumType(CampaignStatus, {
  name: 'CampaignStatus',
  description: 'Where a campaign is.',
  valuesConfig: {
    DRAFT: { description: 'Created, not sent yet.' },
    SENDING: { description: 'Queued; some of its mail is still waiting for SendGrid.' },
    SENT: { description: 'Every mail was handed to SendGrid (or suppressed, or failed).' },
  },
});

export { ListingCategory } from '../../../lib/shared-types';
