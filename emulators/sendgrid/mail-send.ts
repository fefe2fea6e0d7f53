import { mailHelp, type SendGridErrorItem } from './errors';

export interface EmailAddress {
  email: string;
  name?: string;
}

export interface StoredEvent {
  event: string;
  at: string;
  email: string;
}

/** One personalization (recipient group) of an accepted send, as the mailbox shows it. */
export interface StoredMessage {
  /** The X-Message-Id of the request; personalizations of one request share it, so (id, email) names a message. */
  id: string;
  receivedAt: string;
  from: EmailAddress;
  to: EmailAddress[];
  cc?: EmailAddress[];
  bcc?: EmailAddress[];
  replyTo?: EmailAddress;
  subject: string;
  text?: string;
  html?: string;
  /** Message headers merged with the personalization's (personalization wins). */
  headers: Record<string, string>;
  /** Message custom_args merged with the personalization's (personalization wins). */
  customArgs: Record<string, string>;
  categories: string[];
  templateId?: string;
  dynamicTemplateData?: unknown;
  /** Legacy substitutions, already applied to subject, text and html. */
  substitutions?: Record<string, string>;
  /** Unix seconds. */
  sendAt?: number;
  asmGroupId?: number;
  /** Set for messages a marketing single send produced. */
  singleSendId?: string;
  events: StoredEvent[];
}

/** Above this SendGrid refuses the request outright. */
export const MAX_PERSONALIZATIONS = 1000;
const MAX_RECIPIENTS_PER_PERSONALIZATION = 1000;
const MAX_SCHEDULE_AHEAD_SECONDS = 72 * 3600;
const MAX_CATEGORIES = 10;
/** SendGrid sets these itself; a request that sets them is refused. */
const RESERVED_HEADERS = new Set([
  'x-sg-id',
  'x-sg-eid',
  'received',
  'dkim-signature',
  'content-type',
  'content-transfer-encoding',
  'to',
  'from',
  'subject',
  'reply-to',
  'cc',
  'bcc',
]);

// A pragmatic address check: local@domain.tld, no spaces or brackets. SendGrid is stricter in places
// (it also checks the domain), never looser, so what passes here is a reasonable bet.
const EMAIL = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]{2,}$/;

export function isValidEmail(value: unknown): value is string {
  return typeof value === 'string' && value.length <= 320 && EMAIL.test(value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

/** True when `mail_settings.sandbox_mode.enable` asks SendGrid to validate without sending. */
export function isSandboxMode(body: unknown): boolean {
  if (!isObject(body) || !isObject(body.mail_settings)) return false;
  const sandbox = body.mail_settings.sandbox_mode;
  return isObject(sandbox) && sandbox.enable === true;
}

/** Every problem SendGrid would report for this body, in its own field paths and wording. */
export function validateMailSend(body: unknown, nowMs: number): SendGridErrorItem[] {
  const errors: SendGridErrorItem[] = [];
  const add = (field: string | null, message: string, anchor: string) =>
    errors.push({ message, field, help: mailHelp(anchor) });
  if (!isObject(body)) {
    add(null, 'Bad Request', 'body');
    return errors;
  }

  const templateId = body.template_id;
  if (templateId !== undefined && (typeof templateId !== 'string' || templateId.length === 0)) {
    add(
      'template_id',
      'The template_id must be a valid GUID, you provided ' + JSON.stringify(templateId) + '.',
      'template_id',
    );
  }
  const hasTemplate = typeof templateId === 'string' && templateId.length > 0;

  const checkAddress = (value: unknown, field: string, message: string, anchor: string) => {
    if (!isObject(value) || !isValidEmail(value.email)) add(field, message, anchor);
    else if (value.name !== undefined && typeof value.name !== 'string')
      add(field.replace(/\.email$/, '.name'), 'The name must be a string.', anchor);
  };

  const checkSendAt = (value: unknown, field: string) => {
    if (value === undefined) return;
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      add(field, 'The send_at parameter must be a unix timestamp (integer).', 'send_at');
    } else if (value > Math.floor(nowMs / 1000) + MAX_SCHEDULE_AHEAD_SECONDS) {
      add(field, "The send_at parameter can't be scheduled more than 72 hours in advance.", 'send_at');
    }
  };

  const checkStringMap = (value: unknown, field: string, anchor: string) => {
    if (value === undefined) return;
    if (!isObject(value)) {
      add(field, `Invalid type. Expected: object, given: ${typeName(value)}.`, anchor);
      return;
    }
    for (const [key, v] of Object.entries(value)) {
      if (typeof v !== 'string')
        add(`${field}.${key}`, `Invalid type. Expected: string, given: ${typeName(v)}.`, anchor);
    }
  };

  const checkHeaders = (value: unknown, field: string) => {
    checkStringMap(value, field, 'headers');
    if (!isObject(value)) return;
    for (const key of Object.keys(value)) {
      if (RESERVED_HEADERS.has(key.toLowerCase()))
        add(field, `The following header is reserved and cannot be set: ${key}`, 'headers');
    }
  };

  // personalizations
  const personalizations = body.personalizations;
  if (!Array.isArray(personalizations) || personalizations.length === 0) {
    add(
      'personalizations',
      'The personalizations field is required and must have at least one personalization.',
      'personalizations',
    );
  } else if (personalizations.length > MAX_PERSONALIZATIONS) {
    add(
      'personalizations',
      `The personalizations field is limited to ${MAX_PERSONALIZATIONS} personalizations per API request.`,
      'personalizations',
    );
  } else {
    personalizations.forEach((p: unknown, i) => {
      const base = `personalizations.${i}`;
      if (!isObject(p)) {
        add(base, 'Each personalization must be an object.', 'personalizations');
        return;
      }
      if (!Array.isArray(p.to) || p.to.length === 0) {
        add(
          `${base}.to`,
          'The to array is required for all personalization objects, and must have at least one email object with a valid email address.',
          'personalizations.to',
        );
      }
      const seen = new Map<string, string>();
      let duplicateReported = false;
      let recipients = 0;
      for (const kind of ['to', 'cc', 'bcc'] as const) {
        const list = p[kind];
        if (list === undefined) continue;
        if (!Array.isArray(list)) {
          add(
            `${base}.${kind}`,
            `Invalid type. Expected: array, given: ${typeName(list)}.`,
            `personalizations.${kind}`,
          );
          continue;
        }
        list.forEach((address: unknown, j) => {
          recipients += 1;
          checkAddress(
            address,
            `${base}.${kind}.${j}.email`,
            'Does not contain a valid address.',
            `personalizations.${kind}`,
          );
          if (!isObject(address) || typeof address.email !== 'string') return;
          const key = address.email.toLowerCase();
          if (seen.has(key) && !duplicateReported) {
            duplicateReported = true;
            add(
              base,
              `Each email address in the personalization block should be unique between to, cc, and bcc. We found the first duplicate instance of [${address.email}] in the ${base}.${kind} field.`,
              'personalizations',
            );
          }
          seen.set(key, kind);
        });
      }
      if (recipients > MAX_RECIPIENTS_PER_PERSONALIZATION) {
        add(
          base,
          `The total number of recipients in a personalization must be no more than ${MAX_RECIPIENTS_PER_PERSONALIZATION}.`,
          'personalizations',
        );
      }
      if (p.from !== undefined)
        checkAddress(
          p.from,
          `${base}.from.email`,
          'The from email does not contain a valid address.',
          'from.email-invalid',
        );
      if (p.subject !== undefined && typeof p.subject !== 'string') {
        add(
          `${base}.subject`,
          `Invalid type. Expected: string, given: ${typeName(p.subject)}.`,
          'personalizations.subject',
        );
      }
      checkSendAt(p.send_at, `${base}.send_at`);
      checkStringMap(p.custom_args, `${base}.custom_args`, 'custom_args');
      checkStringMap(p.substitutions, `${base}.substitutions`, 'personalizations.substitutions');
      checkHeaders(p.headers, `${base}.headers`);
    });
  }

  // from / reply_to
  if (body.from === undefined || body.from === null) {
    add(
      'from',
      'The from object must be provided for every email send. It is an object that requires the email parameter, but may also contain a name parameter.  e.g. {"email" : "example@example.com"}  or {"email" : "example@example.com", "name" : "Example Recipient"}.',
      'from',
    );
  } else {
    checkAddress(body.from, 'from.email', 'The from email does not contain a valid address.', 'from.email-invalid');
  }
  if (body.reply_to !== undefined)
    checkAddress(body.reply_to, 'reply_to.email', 'The reply_to email does not contain a valid address.', 'reply_to');

  // subject: a template or a subject on every personalization stands in for it
  const everyPersonalizationHasSubject =
    Array.isArray(personalizations) &&
    personalizations.length > 0 &&
    personalizations.every((p: unknown) => isObject(p) && typeof p.subject === 'string' && p.subject.length > 0);
  if (body.subject !== undefined && typeof body.subject !== 'string') {
    add('subject', `Invalid type. Expected: string, given: ${typeName(body.subject)}.`, 'subject');
  } else if (
    !hasTemplate &&
    !everyPersonalizationHasSubject &&
    !(typeof body.subject === 'string' && body.subject.length > 0)
  ) {
    add(
      'subject',
      'The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.',
      'subject',
    );
  }

  // content
  const content = body.content;
  if (content === undefined || (Array.isArray(content) && content.length === 0)) {
    if (!hasTemplate) {
      add(
        'content',
        'Unless a valid template_id is provided, the content parameter is required. There must be at least one defined content block. We typically suggest both text/plain and text/html blocks are included, but only one block is required.',
        'content',
      );
    }
  } else if (!Array.isArray(content)) {
    add('content', `Invalid type. Expected: array, given: ${typeName(content)}.`, 'content');
  } else {
    content.forEach((block: unknown, i) => {
      if (!isObject(block) || typeof block.type !== 'string' || block.type.length === 0) {
        add(`content.${i}.type`, 'The content type must be a string at least one character in length.', 'content.type');
      }
      if (!isObject(block) || typeof block.value !== 'string' || block.value.length === 0) {
        add(
          `content.${i}.value`,
          'The content value must be a string at least one character in length.',
          'content.value',
        );
      }
    });
    // SendGrid insists on text/plain, then text/html, then anything else.
    const types = content.map((block: unknown) =>
      isObject(block) && typeof block.type === 'string' ? block.type.toLowerCase() : '',
    );
    const plain = types.indexOf('text/plain');
    const html = types.indexOf('text/html');
    if (plain > 0 || (html >= 0 && types.slice(0, html).some((t) => t !== 'text/plain'))) {
      add(
        `content.${plain > 0 ? plain : html}.type`,
        'If present, text/plain content must be first, followed by text/html, followed by any other content.',
        'content.type',
      );
    }
  }

  // the rest of the message
  checkSendAt(body.send_at, 'send_at');
  checkStringMap(body.custom_args, 'custom_args', 'custom_args');
  checkHeaders(body.headers, 'headers');
  if (body.categories !== undefined) {
    if (!Array.isArray(body.categories)) {
      add('categories', `Invalid type. Expected: array, given: ${typeName(body.categories)}.`, 'categories');
    } else {
      if (body.categories.length > MAX_CATEGORIES)
        add('categories', `Too many categories. The maximum is ${MAX_CATEGORIES}.`, 'categories');
      body.categories.forEach((category: unknown, i) => {
        if (typeof category !== 'string')
          add(`categories.${i}`, `Invalid type. Expected: string, given: ${typeName(category)}.`, 'categories');
        else if (category.length > 255)
          add(`categories.${i}`, 'A category cannot be longer than 255 characters.', 'categories');
      });
    }
  }
  if (body.asm !== undefined) {
    if (!isObject(body.asm) || typeof body.asm.group_id !== 'number' || !Number.isInteger(body.asm.group_id)) {
      add('asm.group_id', 'The asm.group_id must be an integer.', 'asm.group_id');
    }
  }
  return errors;
}

function address(value: unknown): EmailAddress {
  const v = value as { email: string; name?: unknown };
  return typeof v.name === 'string' && v.name.length > 0 ? { email: v.email, name: v.name } : { email: v.email };
}

function addresses(value: unknown): EmailAddress[] | undefined {
  return Array.isArray(value) && value.length > 0 ? value.map(address) : undefined;
}

function stringMap(value: unknown): Record<string, string> {
  return isObject(value) ? (value as Record<string, string>) : {};
}

/** Legacy substitutions replace their keys literally; longer keys first so `-name-` does not eat `-name-full-`. */
export function applySubstitutions(
  text: string | undefined,
  substitutions: Record<string, string> | undefined,
): string | undefined {
  if (text === undefined || !substitutions) return text;
  const keys = Object.keys(substitutions).sort((a, b) => b.length - a.length);
  return keys.reduce((result, key) => result.split(key).join(substitutions[key] ?? ''), text);
}

export interface BuiltMessage {
  message: StoredMessage;
  personalizationIndex: number;
  /** to, cc and bcc: everyone SendGrid emits events for. */
  recipients: string[];
}

/** One StoredMessage per personalization of a body that passed validateMailSend. */
export function buildStoredMessages(
  body: Record<string, unknown>,
  messageId: string,
  receivedAt: string,
): BuiltMessage[] {
  const personalizations = body.personalizations as Array<Record<string, unknown>>;
  const content = Array.isArray(body.content) ? (body.content as Array<{ type: string; value: string }>) : [];
  const text = content.find((block) => block.type.toLowerCase() === 'text/plain')?.value;
  const html = content.find((block) => block.type.toLowerCase() === 'text/html')?.value;
  const templateId = typeof body.template_id === 'string' ? body.template_id : undefined;
  const categories = Array.isArray(body.categories) ? (body.categories as string[]) : [];
  const asmGroupId = isObject(body.asm) ? (body.asm.group_id as number) : undefined;

  return personalizations.map((p, personalizationIndex) => {
    const substitutions = isObject(p.substitutions) ? (p.substitutions as Record<string, string>) : undefined;
    const to = addresses(p.to) ?? [];
    const cc = addresses(p.cc);
    const bcc = addresses(p.bcc);
    const sendAt = (p.send_at ?? body.send_at) as number | undefined;
    const message: StoredMessage = {
      id: messageId,
      receivedAt,
      from: address(p.from ?? body.from),
      to,
      ...(cc ? { cc } : {}),
      ...(bcc ? { bcc } : {}),
      ...(isObject(body.reply_to) ? { replyTo: address(body.reply_to) } : {}),
      subject:
        applySubstitutions(
          typeof p.subject === 'string' ? p.subject : typeof body.subject === 'string' ? body.subject : '',
          substitutions,
        ) ?? '',
      ...(text !== undefined ? { text: applySubstitutions(text, substitutions) } : {}),
      ...(html !== undefined ? { html: applySubstitutions(html, substitutions) } : {}),
      headers: { ...stringMap(body.headers), ...stringMap(p.headers) },
      customArgs: { ...stringMap(body.custom_args), ...stringMap(p.custom_args) },
      categories: [...categories],
      ...(templateId !== undefined ? { templateId } : {}),
      ...(p.dynamic_template_data !== undefined ? { dynamicTemplateData: p.dynamic_template_data } : {}),
      ...(substitutions ? { substitutions } : {}),
      ...(sendAt !== undefined ? { sendAt } : {}),
      ...(asmGroupId !== undefined ? { asmGroupId } : {}),
      events: [],
    };
    const recipients = [...to, ...(cc ?? []), ...(bcc ?? [])].map((a) => a.email);
    return { message, personalizationIndex, recipients };
  });
}
