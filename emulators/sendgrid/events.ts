import crypto from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';

/** Events the emulator can emit; the names and payloads follow SendGrid's Event Webhook reference. */
export const EVENT_TYPES = [
  'processed',
  'deferred',
  'delivered',
  'open',
  'click',
  'bounce',
  'dropped',
  'spamreport',
  'unsubscribe',
  'group_unsubscribe',
  'group_resubscribe',
] as const;
export type SendGridEventType = (typeof EVENT_TYPES)[number];

export function isEventType(value: unknown): value is SendGridEventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

/** What SendGrid POSTs: one flat object per event, custom_args spread at the top level. */
export type SendGridEvent = Record<string, unknown> & {
  email: string;
  timestamp: number;
  event: SendGridEventType;
  sg_event_id: string;
  sg_message_id: string;
};

export interface SigningKey {
  privateKeyPem: string;
  publicKeyBase64Der: string;
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64Der: publicKey.export({ type: 'spki', format: 'der' }).toString('base64'),
  };
}

export interface EventSigner {
  /** Base64 DER (SPKI): what SendGrid shows as the verification key and @sendgrid/eventwebhook reads. */
  readonly publicKeyBase64Der: string;
  /** Base64 DER ECDSA signature (SHA-256) over timestamp + payload, as in X-Twilio-Email-Event-Webhook-Signature. */
  sign(timestamp: string, payload: string): string;
}

/** Fails at startup on a key that is not P-256 or whose public half does not match. */
export function createEventSigner(key: SigningKey = generateSigningKey()): EventSigner {
  const privateKey = crypto.createPrivateKey(key.privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new Error('signingKey.privateKeyPem must be an ECDSA P-256 (prime256v1) private key');
  }
  const derived = crypto.createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64');
  if (derived !== key.publicKeyBase64Der.replace(/\s+/g, '')) {
    throw new Error('signingKey.publicKeyBase64Der does not belong to signingKey.privateKeyPem');
  }
  return {
    publicKeyBase64Der: derived,
    sign: (timestamp, payload) =>
      crypto.sign('sha256', Buffer.from(timestamp + payload, 'utf8'), privateKey).toString('base64'),
  };
}

export function randomId(bytes = 16): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export interface EventContext {
  email: string;
  sgMessageId: string;
  smtpId: string;
  categories: string[];
  customArgs: Record<string, string>;
  asmGroupId?: number;
  singleSend?: { id: string; name: string };
  /** The first link of the HTML part, used as a click's default url. */
  firstUrl?: string;
}

const USER_AGENT = 'Mozilla/5.0 (SendGrid emulator)';

function defaultsFor(event: SendGridEventType, ctx: EventContext): Record<string, unknown> {
  switch (event) {
    case 'delivered':
      return { ip: '127.0.0.1', response: '250 OK', tls: 1 };
    case 'deferred':
      return { ip: '127.0.0.1', response: '400 try again later', attempt: '1' };
    case 'open':
      return { useragent: USER_AGENT, ip: '127.0.0.1', sg_machine_open: false };
    case 'click':
      return {
        useragent: USER_AGENT,
        ip: '127.0.0.1',
        url: ctx.firstUrl ?? 'https://example.com/',
        url_offset: { index: 0, type: 'html' },
      };
    case 'bounce':
      return {
        ip: '127.0.0.1',
        reason: '550 5.1.1 The email account that you tried to reach does not exist.',
        status: '5.1.1',
        type: 'bounce',
        bounce_classification: 'Invalid Address',
      };
    case 'dropped':
      return { reason: 'Bounced Address', status: '5.0.0' };
    case 'group_unsubscribe':
    case 'group_resubscribe':
      return {
        useragent: USER_AGENT,
        ip: '127.0.0.1',
        url: 'https://example.com/unsubscribe',
        asm_group_id: ctx.asmGroupId ?? 1,
      };
    default:
      return {};
  }
}

/** One webhook event. SendGrid sends `category` as a string for one category and an array for several. */
export function buildEvent(
  ctx: EventContext,
  event: SendGridEventType,
  extra: Record<string, unknown> = {},
): SendGridEvent {
  const base: Record<string, unknown> = {
    email: ctx.email,
    timestamp: Math.floor(Date.now() / 1000),
    'smtp-id': ctx.smtpId,
    event,
  };
  if (ctx.categories.length === 1) base.category = ctx.categories[0];
  else if (ctx.categories.length > 1) base.category = [...ctx.categories];
  base.sg_event_id = randomId();
  base.sg_message_id = ctx.sgMessageId;
  if (ctx.asmGroupId !== undefined) base.asm_group_id = ctx.asmGroupId;
  if (ctx.singleSend) {
    base.singlesend_id = ctx.singleSend.id;
    base.singlesend_name = ctx.singleSend.name;
  }
  // custom_args never override SendGrid's own fields.
  for (const [key, value] of Object.entries(ctx.customArgs)) if (!(key in base)) base[key] = value;
  return { ...base, ...defaultsFor(event, ctx), ...extra, event, email: ctx.email } as SendGridEvent;
}

export interface WebhookDelivery {
  at: string;
  url: string;
  attempt: number;
  events: number;
  status?: number;
  error?: string;
}

export interface WebhookDispatcherOptions {
  url: () => string | undefined;
  signer: EventSigner;
  retryDelaysMs: number[];
  logger: Logger;
  /** Per-attempt timeout. @default 10000 */
  timeoutMs?: number;
  /** Called when events stop being owed to the endpoint (delivered, given up on, or no endpoint set). */
  onSettled?: () => void;
}

export interface WebhookDispatcher {
  /** Queues events; everything queued in the same tick goes out as one POST. */
  enqueue(events: SendGridEvent[]): void;
  /** Resolves when nothing is queued, in flight or waiting to be retried. */
  flush(): Promise<void>;
  /** Drops the queue, pending retries and open requests (reset and close); what they held stays `undelivered`. */
  cancel(): void;
  /** cancel(), and forget the delivery log and the undelivered events. */
  reset(): void;
  deliveries(): WebhookDelivery[];
  /** Events queued, in flight or waiting for a retry, oldest first: what a restart must send again. */
  undelivered(): SendGridEvent[];
}

const MAX_DELIVERY_LOG = 200;

export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const timeoutMs = options.timeoutMs ?? 10_000;
  let queue: SendGridEvent[] = [];
  let scheduled: NodeJS.Immediate | undefined;
  let generation = 0;
  const inFlight = new Set<Promise<void>>();
  const sleepers = new Set<() => void>();
  const openRequests = new Set<http.ClientRequest>();
  const log: WebhookDelivery[] = [];
  const owed = new Map<string, SendGridEvent>();

  function settle(events: SendGridEvent[]): void {
    for (const event of events) owed.delete(event.sg_event_id);
    options.onSettled?.();
  }

  function record(entry: WebhookDelivery): void {
    log.push(entry);
    if (log.length > MAX_DELIVERY_LOG) log.shift();
  }

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      timer.unref();
      sleepers.add(wake);
    });
  }

  function post(url: string, body: string): Promise<{ status?: number; error?: string }> {
    const timestamp = String(Math.floor(Date.now() / 1000));
    const target = new URL(url);
    const transport = target.protocol === 'https:' ? https : http;
    return new Promise((resolve) => {
      const req = transport.request(
        target,
        {
          method: 'POST',
          agent: false, // one connection per POST: nothing lingers after close()
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
            'user-agent': 'SendGrid Event API',
            'X-Twilio-Email-Event-Webhook-Signature': options.signer.sign(timestamp, body),
            'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
          },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode }));
          res.on('error', (err) => resolve({ error: err.message }));
        },
      );
      openRequests.add(req);
      req.on('close', () => openRequests.delete(req));
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`no response within ${timeoutMs} ms`)));
      req.on('error', (err) => resolve({ error: err.message }));
      req.end(body);
    });
  }

  async function deliver(url: string, events: SendGridEvent[], gen: number): Promise<void> {
    const body = JSON.stringify(events);
    for (let attempt = 1; ; attempt += 1) {
      if (gen !== generation) return;
      const outcome = await post(url, body);
      if (gen !== generation) return;
      record({ at: new Date().toISOString(), url, attempt, events: events.length, ...outcome });
      if (outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300) return settle(events);
      const delay = options.retryDelaysMs[attempt - 1];
      if (delay === undefined) {
        options.logger.warn({ url, attempts: attempt, events: events.length, ...outcome }, 'event webhook gave up');
        return settle(events);
      }
      options.logger.debug({ url, attempt, delay, ...outcome }, 'event webhook failed; retrying');
      await sleep(delay);
    }
  }

  function dispatch(): void {
    scheduled = undefined;
    const batch = queue;
    queue = [];
    const url = options.url();
    if (batch.length === 0) return;
    if (!url) return settle(batch); // no endpoint: SendGrid posts nothing
    const delivery = deliver(url, batch, generation).finally(() => inFlight.delete(delivery));
    inFlight.add(delivery);
  }

  return {
    enqueue(events) {
      for (const event of events) owed.set(event.sg_event_id, event);
      queue.push(...events);
      scheduled ??= setImmediate(dispatch);
    },
    async flush() {
      while (scheduled || inFlight.size > 0) {
        if (scheduled) await new Promise<void>((resolve) => setImmediate(resolve));
        else await Promise.all([...inFlight]);
      }
    },
    cancel() {
      generation += 1;
      queue = [];
      if (scheduled) clearImmediate(scheduled);
      scheduled = undefined;
      for (const wake of [...sleepers]) wake();
      for (const req of [...openRequests]) req.destroy();
    },
    reset() {
      this.cancel();
      log.length = 0;
      owed.clear();
    },
    deliveries: () => log.map((entry) => ({ ...entry })),
    undelivered: () => [...owed.values()],
  };
}
