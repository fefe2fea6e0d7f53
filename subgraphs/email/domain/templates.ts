import fs from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import { projectRoot } from '../../../lib/data-dir';
import { BadUserInputError } from '../../../lib/errors';
import type { MailKind } from '../db/schema';

export const TEMPLATE_NAMES = [
  'WELCOME',
  'CONFIRM_EMAIL',
  'LISTING_PUBLISHED',
  'PAYMENT_RECEIPT',
  'NEW_LISTING_ALERT',
  'PROMOTION',
  'ACCOUNT_UPDATE',
] as const;
export type TemplateName = (typeof TEMPLATE_NAMES)[number];

export interface TemplateField {
  name: string;
  /** @default true */
  required?: boolean;
  /** `url` must be an http(s) URL (it becomes a link); a `flag` only switches the mail to its other wording (any non-empty value sets it). @default text */
  type?: 'text' | 'url' | 'flag';
}

export interface TemplateSpec {
  /** Folder under subgraphs/email/templates. */
  folder: string;
  /** TRANSACTIONAL always goes out; ACCOUNT honours the account-updates switch; MARKETING needs consent and no suppression, and carries an unsubscribe link. */
  kind: MailKind;
  description: string;
  fields: TemplateField[];
}

/** Every template, the data it needs, and the kind of mail it is. docs/api.md's table of templates follows this. */
export const TEMPLATES: Record<TemplateName, TemplateSpec> = {
  WELCOME: {
    folder: 'welcome',
    kind: 'TRANSACTIONAL',
    description:
      'Sent on registration (user.created), with the link that confirms the address; or, when another account has confirmed it (`addressInUse`), saying so instead.',
    fields: [
      { name: 'name' },
      { name: 'appUrl', type: 'url' },
      { name: 'confirmUrl', type: 'url', required: false },
      { name: 'addressInUse', type: 'flag', required: false },
    ],
  },
  CONFIRM_EMAIL: {
    folder: 'confirm-email',
    kind: 'TRANSACTIONAL',
    description:
      'To a new address after a change (user.updated): the link that confirms it; or, when another account has confirmed it (`addressInUse`), saying so instead.',
    fields: [
      { name: 'name' },
      { name: 'confirmUrl', type: 'url', required: false },
      { name: 'addressInUse', type: 'flag', required: false },
    ],
  },
  LISTING_PUBLISHED: {
    folder: 'listing-published',
    kind: 'TRANSACTIONAL',
    description: 'To the seller when a listing goes live (listing.status_changed to ACTIVE).',
    fields: [{ name: 'name' }, { name: 'listingTitle' }, { name: 'listingUrl', type: 'url' }, { name: 'expiresAt' }],
  },
  PAYMENT_RECEIPT: {
    folder: 'payment-receipt',
    kind: 'TRANSACTIONAL',
    description: 'To the payer on payment.succeeded.',
    fields: [
      { name: 'name' },
      { name: 'listingTitle' },
      { name: 'amount' },
      { name: 'paymentId' },
      { name: 'providerReference' },
      { name: 'paidAt' },
    ],
  },
  NEW_LISTING_ALERT: {
    folder: 'new-listing-alert',
    kind: 'MARKETING',
    description: 'To every user whose alert (categories, keywords) matches a listing that just went live.',
    fields: [
      { name: 'name' },
      { name: 'listingTitle' },
      { name: 'listingPrice' },
      { name: 'listingCategory' },
      { name: 'listingLocation' },
      { name: 'listingDescription' },
      { name: 'listingUrl', type: 'url' },
    ],
  },
  PROMOTION: {
    folder: 'promotion',
    kind: 'MARKETING',
    description: 'A promotion; campaigns send it to many users.',
    fields: [
      { name: 'subject' },
      { name: 'headline' },
      { name: 'body' },
      { name: 'ctaUrl', type: 'url', required: false },
      { name: 'ctaLabel', required: false },
    ],
  },
  ACCOUNT_UPDATE: {
    folder: 'account-update',
    kind: 'ACCOUNT',
    description: 'A change to the account; users can switch these off.',
    fields: [{ name: 'name' }, { name: 'summary' }, { name: 'message' }],
  },
};

export type TemplateData = Record<string, string>;

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

const MAX_FIELD_LENGTH = 5000;

/**
 * Checks `data` against the template's fields: every required field present, values strings or
 * numbers of sane length, links http(s). Unknown fields are refused too (a typo should not pass
 * silently). Answers BAD_USER_INPUT naming each bad field as `data.<field>`.
 */
export function checkTemplateData(template: TemplateName, data: Record<string, unknown>): TemplateData {
  const spec = TEMPLATES[template];
  const problems: Array<{ field: string; message: string }> = [];
  const out: TemplateData = {};
  const known = new Set(spec.fields.map((f) => f.name));
  for (const key of Object.keys(data)) {
    if (!known.has(key))
      problems.push({
        field: `data.${key}`,
        message: `${template} has no field ${key}; it takes ${[...known].join(', ')}`,
      });
  }
  for (const field of spec.fields) {
    const raw = data[field.name];
    if (raw === undefined || raw === null || raw === '') {
      if (field.required !== false)
        problems.push({ field: `data.${field.name}`, message: `${template} needs data.${field.name}` });
      continue;
    }
    if (typeof raw !== 'string' && typeof raw !== 'number') {
      problems.push({ field: `data.${field.name}`, message: `data.${field.name} must be a string or a number` });
      continue;
    }
    const value = String(raw);
    if (value.length > MAX_FIELD_LENGTH)
      problems.push({
        field: `data.${field.name}`,
        message: `data.${field.name} is longer than ${MAX_FIELD_LENGTH} characters`,
      });
    else if (field.type === 'url' && !/^https?:\/\/[^\s"'<>]+$/i.test(value))
      problems.push({ field: `data.${field.name}`, message: `data.${field.name} must be an http(s) URL` });
    else out[field.name] = value;
  }
  if (problems.length) throw new BadUserInputError(problems, 'input');
  return out;
}

type Compiled = {
  subject: HandlebarsTemplateDelegate;
  html: HandlebarsTemplateDelegate;
  text: HandlebarsTemplateDelegate;
};

/**
 * Handlebars: logic-less templates (no code in the repo's mail), `{{x}}` HTML-escapes by default,
 * prototype access is off since 4.6, and it is the most used engine of its kind. One isolated
 * instance; the HTML part escapes, the subject and text parts do not (they are not HTML).
 */
export function createRenderer(root = path.join(projectRoot(), 'subgraphs/email/templates')) {
  const hbs = Handlebars.create();
  const read = (...parts: string[]) => fs.readFileSync(path.join(root, ...parts), 'utf8');
  const options = { knownHelpersOnly: true, knownHelpers: { if: true } } as const;
  const layoutHtml = hbs.compile(read('layout.html.hbs'), options);
  const layoutText = hbs.compile(read('layout.text.hbs'), { ...options, noEscape: true });
  const compiled = new Map<TemplateName, Compiled>();
  for (const name of TEMPLATE_NAMES) {
    const folder = TEMPLATES[name].folder;
    compiled.set(name, {
      subject: hbs.compile(read(folder, 'subject.hbs'), { ...options, noEscape: true }),
      html: hbs.compile(read(folder, 'html.hbs'), options),
      text: hbs.compile(read(folder, 'text.hbs'), { ...options, noEscape: true }),
    });
  }
  return {
    /** Renders checked data; `unsubscribeUrl` adds the footer link (marketing mail). */
    render(template: TemplateName, data: TemplateData, unsubscribeUrl?: string): RenderedMail {
      const t = compiled.get(template)!;
      const subject = t.subject(data).replace(/\s+/g, ' ').trim().slice(0, 300);
      return {
        subject,
        html: layoutHtml({ subject, content: t.html(data), unsubscribeUrl }),
        text: layoutText({ content: t.text(data).trim(), unsubscribeUrl }).trim() + '\n',
      };
    },
  };
}
export type Renderer = ReturnType<typeof createRenderer>;
