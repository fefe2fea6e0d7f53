import { handleFaultRoutes } from '../shared/admin';
import { createHangs } from '../shared/hangs';
import { pathMatches, sendHtml } from '../shared/html';
import crypto from 'node:crypto';
import http from 'node:http';
import pino from 'pino';
import { closeServer, HttpError, listen as listenOn, readBody, sendJson, urlOf } from '../../lib/http';
import {
  badRequest,
  malformedJson,
  notFound,
  payloadTooLarge,
  rateLimited,
  SendGridApiError,
  serverError,
  unauthorized,
} from './errors';
import {
  buildEvent,
  createEventSigner,
  createWebhookDispatcher,
  generateSigningKey,
  isEventType,
  randomId,
  EVENT_TYPES,
  type SendGridEvent,
  type SendGridEventType,
} from './events';
import { buildStoredMessages, isSandboxMode, validateMailSend, type StoredMessage } from './mail-send';
import { PAGE_CSP, renderInbox, renderMessage, renderNotFound } from './mailbox-page';
import { createSingleSends, type SingleSend, type SingleSendStats } from './single-sends';
import { createStateFile } from '../shared/state-file';
import { parseSavedState, STATE_VERSION, type SavedMessage, type SavedState } from './saved-state';

export type { StoredMessage, StoredEvent, EmailAddress } from './mail-send';
export type { SingleSend, SingleSendStats, SingleSendStatus } from './single-sends';
export type { SendGridEvent, SendGridEventType, WebhookDelivery } from './events';
export { EVENT_TYPES } from './events';

export interface SendGridEmulatorOptions {
  /** Where signed event webhooks are POSTed; none when unset. */
  eventWebhookUrl?: string;
  /** ECDSA P-256 key pair for signing events; generated when unset. */
  signingKey?: { privateKeyPem: string; publicKeyBase64Der: string };
  /** Accepted API keys; any key starting with 'SG.' when unset. */
  apiKeys?: string[];
  /** Delays before each event webhook retry, ms. @default [1000, 5000, 30000] */
  webhookRetryDelaysMs?: number[];
  /** Emit a 'delivered' event for each recipient automatically after accepting a message. @default true */
  autoDeliver?: boolean;
  /**
   * A JSON file that keeps the mailbox, single sends, suppressions, undelivered events and the
   * signing key across restarts; in memory only when unset.
   */
  stateFile?: string;
  /** How long after a change the state file is written, ms. @default 250 */
  stateSaveDelayMs?: number;
  logger?: import('pino').Logger;
}

/** Injected failures for /v3 API calls; `path` matches that path and everything under it; `times` unset means until cleared. */
export type SendGridFault =
  | { kind: 'rate_limit'; times?: number; path?: string }
  | { kind: 'server_error'; status?: 500 | 502 | 503; times?: number; path?: string }
  | { kind: 'hang'; ms: number; times?: number; path?: string };

export interface RecordedRequest {
  method: string;
  path: string;
  /** 0 while in flight, and for a request whose client went away before the answer. */
  status: number;
  at: string;
}

export interface SendGridEmulator {
  server: http.Server;
  /** Resolves to the base URL, e.g. http://127.0.0.1:PORT. @default port 0, host 127.0.0.1 */
  listen(port?: number, host?: string): Promise<string>;
  /** Stops, and writes the state file (when there is one) with the last changes. */
  close(): Promise<void>;
  /** Writes the state file now, with every change so far (nothing without a state file). */
  saveState(): Promise<void>;
  /** Sets where events go; events a previous run had not delivered are sent there first. */
  setEventWebhookUrl(url: string | undefined): void;
  /** The public key (base64 DER) a receiver verifies event webhooks with. */
  publicKey(): string;
  setFaults(faults: SendGridFault[]): void;
  clearFaults(): void;
  /** Forgets messages, single sends, requests, faults, suppressions and pending webhooks; keeps URL and key. */
  reset(): void;
  /** One per personalization (recipient group), oldest first. */
  messages(): StoredMessage[];
  singleSends(): SingleSend[];
  requests(): RecordedRequest[];
  /**
   * Emits an event for a stored message's recipient (delivered, open, click, bounce, dropped, spamreport,
   * unsubscribe, group_unsubscribe, …) and POSTs it signed. `extra` is merged into the payload (e.g. url, reason).
   * Throws for an unknown message, recipient or event name.
   */
  emitEvent(messageId: string, email: string, event: string, extra?: Record<string, unknown>): void;
  /** Resolves when no event delivery is pending or in flight (including retries and 'now' single sends). */
  flushWebhooks(): Promise<void>;
}

type MessageRecord = SavedMessage;

interface ActiveFault {
  fault: SendGridFault;
  remaining: number;
}

/** SendGrid's whole-request limit for mail send. */
const MAX_API_BODY_BYTES = 30 * 1024 * 1024;
const MAX_EMULATOR_BODY_BYTES = 1024 * 1024;
const MAX_REQUEST_LOG = 1000;
const DEFAULT_RETRY_DELAYS_MS = [1000, 5000, 30000];

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a fault from the HTTP control API; setFaults trusts its typed callers. */
function parseFault(value: unknown): SendGridFault {
  const fail = (why: string): never => {
    throw new HttpError(400, `invalid fault: ${why}`);
  };
  if (!isObject(value)) return fail('expected an object');
  const { kind, times, path, status, ms } = value;
  if (times !== undefined && !(typeof times === 'number' && Number.isInteger(times) && times > 0))
    fail('times must be a positive integer');
  if (path !== undefined && typeof path !== 'string') fail('path must be a string');
  const common = {
    ...(times !== undefined ? { times: times as number } : {}),
    ...(path !== undefined ? { path: path as string } : {}),
  };
  switch (kind) {
    case 'rate_limit':
      return { kind, ...common };
    case 'server_error':
      if (status !== undefined && status !== 500 && status !== 502 && status !== 503)
        fail('status must be 500, 502 or 503');
      return { kind, ...(status !== undefined ? { status: status as 500 | 502 | 503 } : {}), ...common };
    case 'hang':
      if (typeof ms !== 'number' || ms < 0) fail('ms must be a non-negative number');
      return { kind, ms: ms as number, ...common };
    default:
      return fail("kind must be 'rate_limit', 'server_error' or 'hang'");
  }
}

function firstHttpLink(html: string | undefined): string | undefined {
  return html ? /href\s*=\s*["']?(https?:\/\/[^"'\s>]+)/i.exec(html)?.[1] : undefined;
}

export function createSendGridEmulator(options: SendGridEmulatorOptions = {}): SendGridEmulator {
  const logger = options.logger ?? pino({ level: 'silent' });
  const autoDeliver = options.autoDeliver ?? true;
  const stateFile = options.stateFile
    ? createStateFile({
        file: options.stateFile,
        emulator: 'sendgrid',
        version: STATE_VERSION,
        snapshot,
        logger,
        delayMs: options.stateSaveDelayMs,
      })
    : undefined;
  // A saved key that does not make a signer is as unusable as a file that does not parse.
  const restored = stateFile?.load((raw) => {
    const state = parseSavedState(raw);
    createEventSigner(state.signingKey);
    return state;
  });
  const signingKey = options.signingKey ?? restored?.signingKey ?? generateSigningKey();
  const signer = createEventSigner(signingKey);
  let webhookUrl = options.eventWebhookUrl;
  /** Events the previous run still owed the webhook endpoint: sent once there is one. */
  let undelivered: SendGridEvent[] = [];
  const dispatcher = createWebhookDispatcher({
    url: () => webhookUrl,
    signer,
    retryDelaysMs: options.webhookRetryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    logger,
    onSettled: () => stateFile?.touch(),
  });

  let records: MessageRecord[] = [];
  let requestLog: RecordedRequest[] = [];
  let faults: ActiveFault[] = [];
  /** Work flushWebhooks must wait for before the dispatcher queue is final (single sends due on the next tick). */
  const pendingWork = new Set<Promise<void>>();
  /** Delivered events of messages with a future send_at. */
  const scheduledDeliveries = new Set<NodeJS.Timeout>();
  /** Hung requests, so close() can end them at once. */
  const hangs = createHangs();
  // SendGrid drops mail to suppressed addresses (202, then a 'dropped' event) instead of refusing it.
  const suppressions = {
    bounces: new Set<string>(),
    spamReports: new Set<string>(),
    unsubscribes: new Set<string>(),
    groupUnsubscribes: new Map<number, Set<string>>(),
  };

  const singleSends = createSingleSends({
    trigger: sendSingleSend,
    stats: statsFor,
    track(work) {
      const tracked = work.finally(() => pendingWork.delete(tracked));
      pendingWork.add(tracked);
    },
  });

  function findRecord(messageId: string, email: string): MessageRecord | undefined {
    const id = messageId.split('.')[0]; // an sg_message_id works too
    const wanted = email.toLowerCase();
    return records.find((r) => r.message.id === id && r.recipients.some((x) => x.toLowerCase() === wanted));
  }

  function suppressionReason(email: string, asmGroupId: number | undefined): string | undefined {
    const key = email.toLowerCase();
    if (suppressions.bounces.has(key)) return 'Bounced Address';
    if (suppressions.spamReports.has(key)) return 'Spam Reporting Address';
    if (suppressions.unsubscribes.has(key)) return 'Unsubscribed Address';
    if (asmGroupId !== undefined && suppressions.groupUnsubscribes.get(asmGroupId)?.has(key))
      return 'Unsubscribed Address';
    return undefined;
  }

  function updateSuppressions(event: SendGridEvent): void {
    const key = event.email.toLowerCase();
    switch (event.event) {
      case 'bounce':
        if (event.type !== 'blocked') suppressions.bounces.add(key);
        break;
      case 'spamreport':
        suppressions.spamReports.add(key);
        break;
      case 'unsubscribe':
        suppressions.unsubscribes.add(key);
        break;
      case 'group_unsubscribe':
      case 'group_resubscribe': {
        const group = Number(event.asm_group_id);
        if (!Number.isInteger(group)) break;
        const set = suppressions.groupUnsubscribes.get(group) ?? new Set<string>();
        if (event.event === 'group_unsubscribe') set.add(key);
        else set.delete(key);
        suppressions.groupUnsubscribes.set(group, set);
        break;
      }
      default:
        break;
    }
  }

  function emit(
    record: MessageRecord,
    email: string,
    event: SendGridEventType,
    extra?: Record<string, unknown>,
  ): SendGridEvent {
    const recipientIndex = record.recipients.findIndex((r) => r.toLowerCase() === email.toLowerCase());
    const m = record.message;
    const payload = buildEvent(
      {
        email: record.recipients[recipientIndex] ?? email,
        sgMessageId: `${m.id}.filterdrecv-emulator-${record.personalizationIndex}-${recipientIndex}.0`,
        smtpId: record.smtpId,
        categories: m.categories,
        customArgs: m.customArgs,
        ...(m.asmGroupId !== undefined ? { asmGroupId: m.asmGroupId } : {}),
        ...(record.singleSend ? { singleSend: record.singleSend } : {}),
        ...(m.html ? { firstUrl: firstHttpLink(m.html) } : {}),
      },
      event,
      extra,
    );
    record.payloads.push(payload);
    m.events.push({ event, at: new Date().toISOString(), email: payload.email });
    updateSuppressions(payload);
    dispatcher.enqueue([payload]);
    stateFile?.touch();
    return payload;
  }

  /** `delivered` for a message with a future send_at, when that time comes. */
  function deliverLater(record: MessageRecord, email: string, delay: number): void {
    const timer = setTimeout(() => {
      scheduledDeliveries.delete(timer);
      if (records.includes(record)) emit(record, email, 'delivered');
    }, delay);
    timer.unref();
    scheduledDeliveries.add(timer);
  }

  /** processed, then delivered (now or at send_at) or dropped for a suppressed address. */
  function deliverAutomatically(record: MessageRecord): void {
    if (!autoDeliver) return;
    const delay = record.message.sendAt !== undefined ? record.message.sendAt * 1000 - Date.now() : 0;
    for (const email of record.recipients) {
      emit(record, email, 'processed');
      const reason = suppressionReason(email, record.message.asmGroupId);
      if (reason) {
        emit(record, email, 'dropped', { reason });
      } else if (delay > 0) {
        deliverLater(record, email, delay);
      } else {
        emit(record, email, 'delivered');
      }
    }
  }

  function addRecord(
    message: StoredMessage,
    personalizationIndex: number,
    recipients: string[],
    singleSend?: MessageRecord['singleSend'],
  ): MessageRecord {
    const record: MessageRecord = {
      message,
      personalizationIndex,
      recipients,
      smtpId: `<${crypto.randomBytes(8).toString('hex')}@ismtpd-emulator>`,
      payloads: [],
      ...(singleSend ? { singleSend } : {}),
    };
    records.push(record);
    return record;
  }

  function sendMail(body: unknown): { status: number; headers: Record<string, string> } {
    const errors = validateMailSend(body, Date.now());
    if (errors.length > 0) throw badRequest(errors);
    // Sandbox mode: SendGrid validates, answers 200 and sends nothing.
    if (isSandboxMode(body)) return { status: 200, headers: {} };
    const id = randomId(16);
    const receivedAt = new Date().toISOString();
    const built = buildStoredMessages(body as Record<string, unknown>, id, receivedAt);
    const added = built.map((b) => addRecord(b.message, b.personalizationIndex, b.recipients));
    for (const record of added) deliverAutomatically(record);
    logger.debug({ messageId: id, personalizations: added.length }, 'mail accepted');
    return { status: 202, headers: { 'X-Message-Id': id } };
  }

  function plainFromHtml(html: string): string {
    return html
      .replace(/<(script|style)[\s\S]*?<\/\1>/gi, '')
      .replace(/<br\s*\/?>|<\/p>|<\/div>|<\/h\d>|<\/li>/gi, '\n')
      .replace(/<[^>]+>/g, '')
      .replace(/&nbsp;/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
  }

  /** A triggered single send: one message per (emulator-only) recipient, each with its own X-Message-Id. */
  function sendSingleSend(ss: SingleSend): void {
    const c = ss.email_config;
    const receivedAt = new Date().toISOString();
    const text =
      c.plain_content ?? (c.generate_plain_content && c.html_content ? plainFromHtml(c.html_content) : undefined);
    for (const email of ss.send_to.emails) {
      const message: StoredMessage = {
        id: randomId(16),
        receivedAt,
        // No senders API here: the sender id stands in for the verified sender's address.
        from: { email: `sender-${c.sender_id ?? 0}@sendgrid-emulator.local`, name: `Sender ${c.sender_id ?? 0}` },
        to: [{ email }],
        subject: c.subject ?? '',
        ...(text !== undefined ? { text } : {}),
        ...(c.html_content !== null ? { html: c.html_content } : {}),
        headers: c.custom_unsubscribe_url ? { 'List-Unsubscribe': `<${c.custom_unsubscribe_url}>` } : {},
        customArgs: {},
        categories: [...ss.categories, `singlesend:${ss.id}`],
        ...(c.suppression_group_id !== null ? { asmGroupId: c.suppression_group_id } : {}),
        singleSendId: ss.id,
        events: [],
      };
      deliverAutomatically(addRecord(message, 0, [email], { id: ss.id, name: ss.name }));
    }
    logger.debug({ singleSendId: ss.id, recipients: ss.send_to.emails.length }, 'single send triggered');
    stateFile?.touch();
  }

  function statsFor(id: string): SingleSendStats {
    const payloads = records.filter((r) => r.singleSend?.id === id).flatMap((r) => r.payloads);
    const count = (event: string, reason?: string) =>
      payloads.filter((p) => p.event === event && (reason === undefined || p.reason === reason)).length;
    const unique = (event: string) =>
      new Set(payloads.filter((p) => p.event === event).map((p) => p.email.toLowerCase())).size;
    return {
      requests: records.filter((r) => r.singleSend?.id === id).reduce((n, r) => n + r.recipients.length, 0),
      delivered: count('delivered'),
      opens: count('open'),
      unique_opens: unique('open'),
      clicks: count('click'),
      unique_clicks: unique('click'),
      bounces: count('bounce'),
      bounce_drops: count('dropped', 'Bounced Address'),
      spam_reports: count('spamreport'),
      spam_report_drops: count('dropped', 'Spam Reporting Address'),
      unsubscribes: count('unsubscribe') + count('group_unsubscribe'),
      invalid_emails: 0,
    };
  }

  function takeFault(pathname: string): SendGridFault | undefined {
    const active = faults.find((f) => pathMatches(pathname, f.fault.path));
    if (!active) return undefined;
    active.remaining -= 1;
    if (active.remaining <= 0) faults = faults.filter((f) => f !== active);
    return active.fault;
  }

  function authorized(req: http.IncomingMessage): boolean {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    const key = match?.[1];
    if (!key) return false;
    return options.apiKeys ? options.apiKeys.includes(key) : key.startsWith('SG.');
  }

  function parseJson(raw: Buffer): unknown {
    if (raw.length === 0) return undefined;
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw malformedJson();
    }
  }

  async function handleApi(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const entry: RecordedRequest = { method, path: url.pathname, status: 0, at: new Date().toISOString() };
    requestLog.push(entry);
    if (requestLog.length > MAX_REQUEST_LOG) requestLog.shift();
    const started = Date.now();
    res.on('finish', () => {
      entry.status = res.statusCode;
      logger.debug(
        { method, path: url.pathname, status: res.statusCode, ms: Date.now() - started },
        'sendgrid emulator api request',
      );
    });

    const raw = await readBody(req, MAX_API_BODY_BYTES);
    const fault = takeFault(url.pathname);
    if (fault?.kind === 'rate_limit') throw rateLimited();
    if (fault?.kind === 'server_error') throw serverError(fault.status ?? 500);
    if (fault?.kind === 'hang' && !(await hangs.hold(fault.ms, res))) {
      res.destroy();
      return;
    }
    if (!authorized(req)) throw unauthorized();
    const body = parseJson(raw);

    if (url.pathname === '/v3/mail/send') {
      if (method !== 'POST')
        throw new SendGridApiError(405, [{ field: null, message: 'method not allowed', help: null }]);
      const result = sendMail(body);
      // 202 with an empty body: the SDK resolves with body '' and the id only in the header.
      res.writeHead(result.status, { 'content-length': 0, ...result.headers });
      res.end();
      return;
    }
    const result = singleSends.handle(method, url.pathname, body);
    if (!result) throw notFound('resource not found');
    if (result.body === undefined) {
      res.writeHead(result.status, { 'content-length': 0 });
      res.end();
      return;
    }
    sendJson(res, result.status, result.body);
  }

  function inboxEntries() {
    return [...records].reverse().map((r) => ({ message: r.message, recipients: r.recipients }));
  }

  function suppressionLists() {
    return {
      bounces: [...suppressions.bounces],
      spamReports: [...suppressions.spamReports],
      unsubscribes: [...suppressions.unsubscribes],
      groupUnsubscribes: Object.fromEntries([...suppressions.groupUnsubscribes].map(([g, set]) => [g, [...set]])),
    };
  }

  function state() {
    return {
      messages: api.messages(),
      singleSends: singleSends.list(),
      requests: api.requests(),
      faults: faults.map((f) => ({ ...f.fault, remaining: Number.isFinite(f.remaining) ? f.remaining : null })),
      suppressions: suppressionLists(),
      eventWebhook: {
        url: webhookUrl ?? null,
        publicKey: signer.publicKeyBase64Der,
        deliveries: dispatcher.deliveries(),
      },
    };
  }

  async function readEmulatorBody(req: http.IncomingMessage): Promise<unknown> {
    const raw = await readBody(req, MAX_EMULATOR_BODY_BYTES);
    if (raw.length === 0) return undefined;
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type.startsWith('application/x-www-form-urlencoded'))
      return Object.fromEntries(new URLSearchParams(raw.toString('utf8')));
    try {
      return JSON.parse(raw.toString('utf8'));
    } catch {
      throw new HttpError(400, 'malformed JSON body');
    }
  }

  async function handleEmulator(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const method = req.method ?? 'GET';
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (method === 'GET' && (path === '/' || path === '/__emulator')) {
      return sendHtml(
        res,
        200,
        renderInbox(inboxEntries(), singleSends.list(), { publicKey: signer.publicKeyBase64Der, webhookUrl }),
        { 'content-security-policy': PAGE_CSP },
      );
    }
    const detail = /^\/__emulator\/messages\/([^/]+)\/([^/]+)$/.exec(path);
    if (method === 'GET' && detail) {
      const id = decodeURIComponent(detail[1] ?? '');
      const email = decodeURIComponent(detail[2] ?? '');
      const record = findRecord(id, email);
      if (!record)
        return sendHtml(res, 404, renderNotFound(`No message ${id} for ${email}.`), {
          'content-security-policy': PAGE_CSP,
        });
      return sendHtml(res, 200, renderMessage(record.message, email, record.recipients, record.payloads), {
        'content-security-policy': PAGE_CSP,
      });
    }
    if (method === 'GET' && path === '/__emulator/state') return sendJson(res, 200, state());
    if (
      await handleFaultRoutes(method, path, res, {
        readBody: () => readEmulatorBody(req),
        parse: parseFault,
        set: (faults) => api.setFaults(faults),
        clear: () => api.clearFaults(),
        reset: () => api.reset(),
        current: () => state().faults,
      })
    ) {
      return;
    }
    if (method === 'POST' && path === '/__emulator/events') {
      const body = await readEmulatorBody(req);
      if (
        !isObject(body) ||
        typeof body.messageId !== 'string' ||
        typeof body.email !== 'string' ||
        typeof body.event !== 'string'
      ) {
        throw new HttpError(400, 'expected { messageId, email, event, extra? }');
      }
      if (body.extra !== undefined && !isObject(body.extra)) throw new HttpError(400, 'extra must be an object');
      if (!isEventType(body.event)) throw new HttpError(400, `event must be one of ${EVENT_TYPES.join(', ')}`);
      const record = findRecord(body.messageId, body.email);
      if (!record) throw new HttpError(404, `no message ${body.messageId} for ${body.email}`, 'NOT_FOUND');
      const payload = emit(record, body.email, body.event, body.extra as Record<string, unknown> | undefined);
      // The mailbox's buttons post a form and come back to the message; only our own pages are targets.
      const redirect =
        typeof body.redirect === 'string' && body.redirect.startsWith('/__emulator/messages/')
          ? body.redirect
          : undefined;
      if (redirect) {
        res.writeHead(303, { location: redirect, 'content-length': 0 });
        res.end();
        return;
      }
      return sendJson(res, 201, payload);
    }
    if (method === 'GET' && path === '/favicon.ico') {
      res.writeHead(204);
      res.end();
      return;
    }
    sendJson(res, 404, { errors: [{ field: null, message: `no emulator route ${method} ${url.pathname}` }] });
  }

  function answerError(res: http.ServerResponse, err: unknown, url: URL): void {
    if (res.headersSent || res.destroyed) {
      res.destroy();
      return;
    }
    const isApi = url.pathname.startsWith('/v3/');
    if (err instanceof SendGridApiError) return sendJson(res, err.status, err.body, err.headers);
    if (err instanceof HttpError) {
      if (isApi && err.status === 413) return sendJson(res, 413, payloadTooLarge().body);
      return sendJson(res, err.status, { errors: [{ field: null, message: err.message }] });
    }
    logger.error({ err, path: url.pathname }, 'sendgrid emulator request failed');
    sendJson(res, 500, serverError(500).body);
  }

  function snapshot(): SavedState {
    return {
      signingKey,
      messages: records,
      singleSends: singleSends.list(),
      suppressions: suppressionLists(),
      undelivered: [...undelivered, ...dispatcher.undelivered()],
    };
  }

  /** The saved mailbox and its work in flight: undelivered events wait for an endpoint, future deliveries and single sends are scheduled again. */
  function restore(saved: SavedState): void {
    records = saved.messages;
    singleSends.restore(saved.singleSends);
    for (const email of saved.suppressions.bounces) suppressions.bounces.add(email);
    for (const email of saved.suppressions.spamReports) suppressions.spamReports.add(email);
    for (const email of saved.suppressions.unsubscribes) suppressions.unsubscribes.add(email);
    for (const [group, list] of Object.entries(saved.suppressions.groupUnsubscribes))
      suppressions.groupUnsubscribes.set(Number(group), new Set(list));
    undelivered = saved.undelivered;
    if (autoDeliver) {
      for (const record of records) {
        if (record.message.sendAt === undefined) continue;
        for (const email of record.recipients) {
          const seen = record.message.events
            .filter((e) => e.email.toLowerCase() === email.toLowerCase())
            .map((e) => e.event);
          if (seen.includes('processed') && !seen.includes('delivered') && !seen.includes('dropped')) {
            deliverLater(record, email, Math.max(0, record.message.sendAt * 1000 - Date.now()));
          }
        }
      }
    }
    logger.info(
      {
        file: options.stateFile,
        messages: records.length,
        singleSends: saved.singleSends.length,
        undelivered: undelivered.length,
      },
      'sendgrid emulator state restored',
    );
  }
  if (restored) restore(restored);

  function resumeDeliveries(): void {
    if (!webhookUrl || undelivered.length === 0) return;
    logger.info(
      { events: undelivered.length, webhookUrl },
      'sendgrid emulator resumes event webhooks a previous run had not delivered',
    );
    dispatcher.enqueue(undelivered);
    undelivered = [];
  }

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const handler = url.pathname.startsWith('/v3/') ? handleApi : handleEmulator;
    // Changes come through POST, PUT, PATCH and DELETE (and timers, which touch the file themselves).
    if (stateFile && req.method !== 'GET' && req.method !== 'HEAD') res.once('close', () => stateFile.touch());
    handler(req, res, url).catch((err: unknown) => answerError(res, err, url));
  });

  function stopTimers(): void {
    hangs.releaseAll();
    for (const timer of scheduledDeliveries) clearTimeout(timer);
    scheduledDeliveries.clear();
    singleSends.stop();
    dispatcher.cancel();
  }

  const api: SendGridEmulator = {
    server,
    async listen(port = 0, host = '127.0.0.1') {
      const address = await listenOn(server, port, host);
      resumeDeliveries();
      return urlOf(address, '');
    },
    async close() {
      stopTimers();
      await closeServer(server, 500);
      await stateFile?.close();
    },
    saveState: async () => stateFile?.flush(),
    setEventWebhookUrl(url) {
      webhookUrl = url;
      if (server.listening) resumeDeliveries();
    },
    publicKey: () => signer.publicKeyBase64Der,
    setFaults(list) {
      faults = list.map((fault) => ({ fault: { ...fault }, remaining: fault.times ?? Number.POSITIVE_INFINITY }));
    },
    clearFaults() {
      faults = [];
    },
    reset() {
      stopTimers();
      dispatcher.reset();
      singleSends.reset();
      records = [];
      requestLog = [];
      faults = [];
      suppressions.bounces.clear();
      suppressions.spamReports.clear();
      suppressions.unsubscribes.clear();
      suppressions.groupUnsubscribes.clear();
      undelivered = [];
      stateFile?.touch();
    },
    messages: () => records.map((r) => structuredClone(r.message)),
    singleSends: () => singleSends.list(),
    requests: () => requestLog.map((r) => ({ ...r })),
    emitEvent(messageId, email, event, extra) {
      if (!isEventType(event))
        throw new Error(`Unknown SendGrid event '${event}'; expected one of ${EVENT_TYPES.join(', ')}`);
      const record = findRecord(messageId, email);
      if (!record) throw new Error(`No stored message ${messageId} for ${email}`);
      emit(record, email, event, extra);
    },
    async flushWebhooks() {
      while (pendingWork.size > 0) await Promise.all([...pendingWork]);
      await dispatcher.flush();
      // A flush can be raced by work started meanwhile; settle until both are quiet.
      if (pendingWork.size > 0) await api.flushWebhooks();
    },
  };
  return api;
}
