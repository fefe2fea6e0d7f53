import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@sendgrid/client';
import { MailService, type MailDataRequired } from '@sendgrid/mail';
import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';
import { createSendGridEmulator, type SendGridEmulator } from '../../emulators/sendgrid/server';

/** What @sendgrid/client rejects with for an HTTP error (its .d.ts types `body` as a string; it is the parsed JSON). */
interface SendGridResponseError {
  code: number;
  message: string;
  response: {
    headers: Record<string, string>;
    body: { errors: Array<{ message: string; field: string | null; help?: string | null }> };
  };
}

/** A client of its own pointed at the emulator: setApiKey resets baseUrl, so it goes first. */
function clientFor(base: string, apiKey = 'SG.test-key'): Client {
  const client = new Client();
  client.setApiKey(apiKey);
  client.setDefaultRequest('baseUrl', base);
  return client;
}

function mailFor(base: string, apiKey = 'SG.test-key'): MailService {
  const mail = new MailService();
  mail.setClient(clientFor(base, apiKey));
  return mail;
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

async function responseErrorOf(promise: Promise<unknown>): Promise<SendGridResponseError> {
  const err = await rejectionOf(promise);
  expect((err as Error).constructor.name).toBe('ResponseError');
  return err as SendGridResponseError;
}

interface Receiver {
  url: string;
  received: Array<{ body: string; headers: http.IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** A local event webhook endpoint; `statusFor(n)` answers the n-th POST (1-based). */
async function startReceiver(statusFor: (n: number) => number = () => 200): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(statusFor(received.length));
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/sendgrid/events`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function verify(publicKey: string, body: string, headers: http.IncomingHttpHeaders): boolean {
  const webhook = new EventWebhook();
  const signature = headers[EventWebhookHeader.SIGNATURE().toLowerCase()] as string;
  const timestamp = headers[EventWebhookHeader.TIMESTAMP().toLowerCase()] as string;
  return webhook.verifySignature(webhook.convertPublicKeyToECDSA(publicKey), body, signature, timestamp);
}

const FROM = 'SayPro <noreply@saypro.example>';
const basic = (overrides: Partial<MailDataRequired> = {}): MailDataRequired =>
  ({ to: 'ada@example.com', from: FROM, subject: 'Hello', text: 'Hello Ada', ...overrides }) as MailDataRequired;

let emulator: SendGridEmulator;
let base: string;
let mail: MailService;
let receiver: Receiver;

beforeAll(async () => {
  emulator = createSendGridEmulator({ webhookRetryDelaysMs: [20, 20] });
  base = await emulator.listen(0, '127.0.0.1');
  mail = mailFor(base);
  receiver = await startReceiver();
});

beforeEach(() => {
  emulator.reset();
  emulator.setEventWebhookUrl(undefined);
  receiver.received.length = 0;
});

afterAll(async () => {
  await emulator.close();
  await receiver.close();
});

describe('POST /v3/mail/send through @sendgrid/mail', () => {
  it('answers 202 with an empty body and X-Message-Id, and stores the message', async () => {
    const [response, body] = await mail.send({
      to: { email: 'ada@example.com', name: 'Ada' },
      from: FROM,
      subject: 'Welcome to SayPro',
      text: 'Hello Ada',
      html: '<p>Hello <b>Ada</b></p>',
      headers: { 'List-Unsubscribe': '<https://saypro.example/unsubscribe?u=u1>' },
      customArgs: { userId: 'u1', kind: 'welcome' },
      categories: ['welcome'],
    });
    expect(response.statusCode).toBe(202);
    expect(body).toBe('');
    const id = response.headers['x-message-id'] as string;
    expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);

    const [stored, ...rest] = emulator.messages();
    expect(rest).toHaveLength(0);
    expect(stored).toMatchObject({
      id,
      from: { email: 'noreply@saypro.example', name: 'SayPro' },
      to: [{ email: 'ada@example.com', name: 'Ada' }],
      subject: 'Welcome to SayPro',
      text: 'Hello Ada',
      html: '<p>Hello <b>Ada</b></p>',
      headers: { 'List-Unsubscribe': '<https://saypro.example/unsubscribe?u=u1>' },
      customArgs: { userId: 'u1', kind: 'welcome' },
      categories: ['welcome'],
    });
    expect(stored?.events.map((e) => [e.event, e.email])).toEqual([
      ['processed', 'ada@example.com'],
      ['delivered', 'ada@example.com'],
    ]);
    expect(emulator.requests()).toEqual([
      expect.objectContaining({ method: 'POST', path: '/v3/mail/send', status: 202 }),
    ]);
  });

  const future = () => Math.floor(Date.now() / 1000) + 73 * 3600;
  const validationCases: Array<[string, () => MailDataRequired]> = [
    ['personalizations', () => basic({ personalizations: [] } as Partial<MailDataRequired>)],
    [
      'personalizations.0.to',
      () => basic({ to: undefined, personalizations: [{ cc: 'cc@example.com' }] } as Partial<MailDataRequired>),
    ],
    ['personalizations.0.to.0.email', () => basic({ to: 'not-an-address' })],
    ['from', () => basic({ from: undefined } as unknown as Partial<MailDataRequired>)],
    ['from.email', () => basic({ from: 'nobody' })],
    ['subject', () => basic({ subject: undefined })],
    ['content', () => ({ to: 'ada@example.com', from: FROM, subject: 'No body' }) as MailDataRequired],
    ['content.0.value', () => basic({ text: '' })],
    [
      'personalizations',
      () =>
        basic({
          to: undefined,
          personalizations: Array.from({ length: 1001 }, (_, i) => ({ to: `user${i}@example.com` })),
        } as Partial<MailDataRequired>),
    ],
    ['send_at', () => basic({ sendAt: future() })],
  ];

  it.each(validationCases)('answers 400 for a problem in %s', async (field, message) => {
    const err = await responseErrorOf(mail.send(message()));
    expect(err.code).toBe(400);
    expect(err.response.body.errors.map((e) => e.field)).toContain(field);
    expect(emulator.messages()).toHaveLength(0);
  });

  it('reports every problem at once, in SendGrid’s shape', async () => {
    const err = await responseErrorOf(clientFor(base).request({ method: 'POST', url: '/v3/mail/send', body: {} }));
    expect(err.code).toBe(400);
    expect(err.message).toBe('Bad Request');
    expect(err.response.body.errors.map((e) => e.field)).toEqual(['personalizations', 'from', 'subject', 'content']);
    expect(err.response.body.errors[2]).toMatchInlineSnapshot(`
      {
        "field": "subject",
        "help": "http://sendgrid.com/docs/API_Reference/Web_API_v3/Mail/errors.html#message.subject",
        "message": "The subject is required. You can get around this requirement if you use a template with a subject defined or if every personalization has a subject defined.",
      }
    `);
  });

  it('answers 401 with SendGrid’s body for a key that is not accepted', async () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => undefined); // the SDK warns about keys without "SG."
    try {
      const err = await responseErrorOf(mailFor(base, 'not-a-sendgrid-key').send(basic()));
      expect(err.code).toBe(401);
      expect(err.response.body).toEqual({
        errors: [
          { field: null, message: 'The provided authorization grant is invalid, expired, or revoked', help: null },
        ],
      });
    } finally {
      warn.mockRestore();
    }

    const strict = createSendGridEmulator({ apiKeys: ['SG.the-one'] });
    const strictBase = await strict.listen();
    try {
      expect((await responseErrorOf(mailFor(strictBase, 'SG.another').send(basic()))).code).toBe(401);
      const [ok] = await mailFor(strictBase, 'SG.the-one').send(basic());
      expect(ok.statusCode).toBe(202);
    } finally {
      await strict.close();
    }
  });

  it('stores one message per personalization, with merged custom args and applied substitutions', async () => {
    const [response] = await mail.send({
      from: FROM,
      subject: 'Hi {{name}}',
      text: 'Hello {{name}}',
      customArgs: { campaign: 'spring' },
      personalizations: [
        { to: ['ada@example.com', 'ada2@example.com'], customArgs: { userId: 'u1' }, substitutions: { name: 'Ada' } },
        {
          to: 'bob@example.com',
          subject: 'Special for {{name}}',
          customArgs: { userId: 'u2', campaign: 'vip' },
          substitutions: { name: 'Bob' },
        },
      ],
    });
    const id = response.headers['x-message-id'] as string;
    const messages = emulator.messages();
    expect(messages).toHaveLength(2);
    expect(messages.map((m) => m.id)).toEqual([id, id]);
    expect(messages[0]).toMatchObject({
      to: [{ email: 'ada@example.com' }, { email: 'ada2@example.com' }],
      subject: 'Hi Ada',
      text: 'Hello Ada',
      customArgs: { campaign: 'spring', userId: 'u1' },
    });
    expect(messages[1]).toMatchObject({
      subject: 'Special for Bob',
      text: 'Hello Bob',
      customArgs: { campaign: 'vip', userId: 'u2' },
    });
    expect(messages[0]?.events.filter((e) => e.event === 'delivered').map((e) => e.email)).toEqual([
      'ada@example.com',
      'ada2@example.com',
    ]);
  });

  it('accepts a dynamic template send without subject or content and keeps the template data', async () => {
    const [response] = await mail.send({
      to: 'ada@example.com',
      from: FROM,
      templateId: 'd-0123456789abcdef0123456789abcdef',
      dynamicTemplateData: { firstName: 'Ada', listings: 3 },
    });
    expect(response.statusCode).toBe(202);
    expect(emulator.messages()[0]).toMatchObject({
      templateId: 'd-0123456789abcdef0123456789abcdef',
      dynamicTemplateData: { firstName: 'Ada', listings: 3 },
      subject: '',
    });
    expect(emulator.messages()[0]?.html).toBeUndefined();
  });

  it('validates but neither stores nor sends in sandbox mode (200)', async () => {
    const [response] = await mail.send(basic({ mailSettings: { sandboxMode: { enable: true } } }));
    expect(response.statusCode).toBe(200);
    expect(emulator.messages()).toHaveLength(0);
  });

  it('drops later mail to an address that bounced', async () => {
    const [first] = await mail.send(basic());
    emulator.emitEvent(first.headers['x-message-id'] as string, 'ada@example.com', 'bounce');
    const [second] = await mail.send(basic({ subject: 'Again' }));
    expect(second.statusCode).toBe(202);
    expect(emulator.messages()[1]?.events.map((e) => e.event)).toEqual(['processed', 'dropped']);
  });
});

describe('faults', () => {
  it('rate_limit answers 429 with SendGrid’s body and X-RateLimit headers, `times` times', async () => {
    emulator.setFaults([{ kind: 'rate_limit', times: 1 }]);
    const err = await responseErrorOf(mail.send(basic()));
    expect(err.code).toBe(429);
    expect(err.response.body).toEqual({ errors: [{ field: null, message: 'too many requests' }] });
    expect(err.response.headers['x-ratelimit-limit']).toBe('600');
    expect(err.response.headers['x-ratelimit-remaining']).toBe('0');
    expect(Number(err.response.headers['x-ratelimit-reset'])).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000));
    const [ok] = await mail.send(basic());
    expect(ok.statusCode).toBe(202);
    expect(emulator.requests().map((r) => r.status)).toEqual([429, 202]);
  });

  it('server_error answers 5xx on the matching path only', async () => {
    emulator.setFaults([{ kind: 'server_error', status: 503, path: '/v3/mail/send' }]);
    const err = await responseErrorOf(mail.send(basic()));
    expect(err.code).toBe(503);
    expect(err.response.body).toEqual({ errors: [{ field: null, message: 'internal error' }] });
    const [list] = await clientFor(base).request({ method: 'GET', url: '/v3/marketing/singlesends' });
    expect(list.statusCode).toBe(200);
    emulator.clearFaults();
    expect((await mail.send(basic()))[0].statusCode).toBe(202);
  });

  it('hang outlasts the SDK timeout (an axios ECONNABORTED error, not a ResponseError) and stores nothing', async () => {
    const slow = mailFor(base);
    slow.setTimeout(100);
    emulator.setFaults([{ kind: 'hang', ms: 5_000, times: 1 }]);
    const err = (await rejectionOf(slow.send(basic()))) as Error & { code?: string };
    expect(err.constructor.name).not.toBe('ResponseError');
    expect(err.code).toBe('ECONNABORTED');
    expect(err.message).toBe('timeout of 100ms exceeded');
    expect(emulator.messages()).toHaveLength(0);
    // A shorter hang only delays the answer.
    emulator.setFaults([{ kind: 'hang', ms: 30, times: 1 }]);
    expect((await slow.send(basic()))[0].statusCode).toBe(202);
  });

  it('can be set and cleared over HTTP', async () => {
    const set = await fetch(`${base}/__emulator/faults`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify([{ kind: 'server_error', times: 1 }]),
    });
    expect(set.status).toBe(200);
    expect((await responseErrorOf(mail.send(basic()))).code).toBe(500);
    const bad = await fetch(`${base}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'nope' }) });
    expect(bad.status).toBe(400);
    await fetch(`${base}/__emulator/faults`, { method: 'POST', body: JSON.stringify({ kind: 'rate_limit' }) });
    expect((await fetch(`${base}/__emulator/faults`, { method: 'DELETE' })).status).toBe(200);
    expect((await mail.send(basic()))[0].statusCode).toBe(202);
  });
});

describe('marketing single sends through @sendgrid/client', () => {
  const singleSend = {
    name: 'June newsletter',
    categories: ['newsletter'],
    send_to: { list_ids: ['all-users'], emails: ['ada@example.com', 'bob@example.com'] },
    email_config: {
      subject: 'News from SayPro',
      html_content: '<p>New listings near you. <a href="https://saypro.example/listings">Browse</a></p>',
      sender_id: 1,
      suppression_group_id: 42,
    },
  };

  it('create → schedule now → triggered → stats follow the events', async () => {
    const client = clientFor(base);
    const [created, draft] = await client.request({
      method: 'POST',
      url: '/v3/marketing/singlesends',
      body: singleSend,
    });
    expect(created.statusCode).toBe(201);
    expect(draft).toMatchObject({ id: expect.any(String), name: 'June newsletter', status: 'draft', send_at: null });
    const id = (draft as { id: string }).id;

    const [, fetched] = await client.request({ method: 'GET', url: `/v3/marketing/singlesends/${id}` });
    expect(fetched).toMatchObject({ id, status: 'draft', email_config: { subject: 'News from SayPro' } });

    const [scheduled, scheduleBody] = await client.request({
      method: 'PUT',
      url: `/v3/marketing/singlesends/${id}/schedule`,
      body: { send_at: 'now' },
    });
    expect(scheduled.statusCode).toBe(201);
    expect(scheduleBody).toMatchObject({ id, status: 'scheduled', send_at: expect.any(String) });

    await emulator.flushWebhooks();
    const [, triggered] = await client.request({ method: 'GET', url: `/v3/marketing/singlesends/${id}` });
    expect(triggered).toMatchObject({ status: 'triggered' });

    const messages = emulator.messages();
    expect(messages.map((m) => m.to[0]?.email)).toEqual(['ada@example.com', 'bob@example.com']);
    expect(messages[0]).toMatchObject({
      subject: 'News from SayPro',
      categories: ['newsletter', `singlesend:${id}`],
      asmGroupId: 42,
    });
    const [ada, bob] = messages as [(typeof messages)[0], (typeof messages)[0]];

    emulator.emitEvent(ada.id, 'ada@example.com', 'open');
    emulator.emitEvent(ada.id, 'ada@example.com', 'open');
    emulator.emitEvent(ada.id, 'ada@example.com', 'click');
    emulator.emitEvent(bob.id, 'bob@example.com', 'bounce');
    emulator.emitEvent(bob.id, 'bob@example.com', 'group_unsubscribe');

    const [, stats] = await client.request({ method: 'GET', url: `/v3/marketing/stats/singlesends/${id}` });
    expect(stats).toMatchObject({
      results: [
        {
          id,
          ab_phase: 'all',
          aggregation: 'total',
          stats: {
            requests: 2,
            delivered: 2,
            opens: 2,
            unique_opens: 1,
            clicks: 1,
            unique_clicks: 1,
            bounces: 1,
            unsubscribes: 1,
            spam_reports: 0,
          },
        },
      ],
    });
  });

  it('answers 404 for an unknown single send and 400 when a draft cannot be scheduled', async () => {
    const client = clientFor(base);
    const missing = await responseErrorOf(
      client.request({ method: 'GET', url: '/v3/marketing/singlesends/00000000-0000-0000-0000-000000000000' }),
    );
    expect(missing.code).toBe(404);
    expect(missing.response.body).toEqual({ errors: [{ field: null, message: 'not found' }] });

    const [, draft] = await client.request({
      method: 'POST',
      url: '/v3/marketing/singlesends',
      body: { name: 'Incomplete' },
    });
    const err = await responseErrorOf(
      client.request({
        method: 'PUT',
        url: `/v3/marketing/singlesends/${(draft as { id: string }).id}/schedule`,
        body: { send_at: 'now' },
      }),
    );
    expect(err.code).toBe(400);
    expect(err.response.body.errors.map((e) => e.field)).toEqual([
      'email_config.subject',
      'email_config.html_content',
      'email_config.sender_id',
      'email_config.suppression_group_id',
      'send_to',
    ]);
    const noName = await responseErrorOf(
      client.request({ method: 'POST', url: '/v3/marketing/singlesends', body: {} }),
    );
    expect(noName.response.body.errors).toEqual([{ field: 'name', message: 'name is required' }]);
  });
});

describe('event webhook', () => {
  it('POSTs processed and delivered as one signed batch that @sendgrid/eventwebhook verifies', async () => {
    emulator.setEventWebhookUrl(receiver.url);
    const [response] = await mail.send(basic({ customArgs: { userId: 'u1' }, categories: ['welcome'] }));
    const id = response.headers['x-message-id'] as string;
    await emulator.flushWebhooks();

    expect(receiver.received).toHaveLength(1);
    const [{ body, headers }] = receiver.received as [Receiver['received'][0]];
    expect(headers['content-type']).toBe('application/json');
    expect(verify(emulator.publicKey(), body, headers)).toBe(true);

    const events = JSON.parse(body) as Array<Record<string, unknown>>;
    expect(events.map((e) => e.event)).toEqual(['processed', 'delivered']);
    expect(events[1]).toMatchObject({
      email: 'ada@example.com',
      timestamp: expect.any(Number),
      'smtp-id': expect.stringMatching(/^<.+>$/),
      category: 'welcome',
      sg_event_id: expect.any(String),
      sg_message_id: expect.stringMatching(new RegExp(`^${id.replace(/[-]/g, '\\-')}\\.`)),
      userId: 'u1',
      response: '250 OK',
    });
  });

  it('fails verification for a tampered body or timestamp', async () => {
    emulator.setEventWebhookUrl(receiver.url);
    await mail.send(basic());
    await emulator.flushWebhooks();
    const [{ body, headers }] = receiver.received as [Receiver['received'][0]];
    expect(verify(emulator.publicKey(), body.replace('"delivered"', '"bounce"'), headers)).toBe(false);
    const sigHeader = EventWebhookHeader.TIMESTAMP().toLowerCase();
    expect(
      verify(emulator.publicKey(), body, { ...headers, [sigHeader]: String(Number(headers[sigHeader]) + 1) }),
    ).toBe(false);
  });

  it('batches events emitted in the same tick and carries the event-specific fields', async () => {
    const [response] = await mail.send(
      basic({
        html: '<p><a href="https://saypro.example/l/1">Listing</a></p>',
        asm: { groupId: 7 },
      } as Partial<MailDataRequired>),
    );
    const id = response.headers['x-message-id'] as string;
    await emulator.flushWebhooks();
    emulator.setEventWebhookUrl(receiver.url);

    emulator.emitEvent(id, 'ada@example.com', 'click');
    emulator.emitEvent(id, 'ada@example.com', 'bounce', { reason: '550 mailbox full' });
    emulator.emitEvent(id, 'ada@example.com', 'group_unsubscribe');
    await emulator.flushWebhooks();

    expect(receiver.received).toHaveLength(1);
    const events = JSON.parse(receiver.received[0]?.body ?? '[]') as Array<Record<string, unknown>>;
    expect(events).toEqual([
      expect.objectContaining({ event: 'click', url: 'https://saypro.example/l/1', asm_group_id: 7 }),
      expect.objectContaining({ event: 'bounce', reason: '550 mailbox full', type: 'bounce', status: '5.1.1' }),
      expect.objectContaining({ event: 'group_unsubscribe', asm_group_id: 7 }),
    ]);
    expect(() => emulator.emitEvent(id, 'someone@else.example', 'open')).toThrow(/No stored message/);
    expect(() => emulator.emitEvent(id, 'ada@example.com', 'teleported')).toThrow(/Unknown SendGrid event/);
  });

  it('retries a non-2xx answer with the same body, then stops on success', async () => {
    const flaky = await startReceiver((n) => (n === 1 ? 500 : 204));
    try {
      emulator.setEventWebhookUrl(flaky.url);
      await mail.send(basic());
      await emulator.flushWebhooks();
      expect(flaky.received).toHaveLength(2);
      expect(flaky.received[1]?.body).toBe(flaky.received[0]?.body);
      expect(verify(emulator.publicKey(), flaky.received[1]?.body ?? '', flaky.received[1]?.headers ?? {})).toBe(true);
    } finally {
      await flaky.close();
    }
  });

  it('retries network errors and gives up after the last delay', async () => {
    const gone = await startReceiver();
    await gone.close(); // a port nobody listens on
    emulator.setEventWebhookUrl(gone.url);
    await mail.send(basic());
    await emulator.flushWebhooks();
    const state = (await (await fetch(`${base}/__emulator/state`)).json()) as {
      eventWebhook: { deliveries: Array<{ attempt: number; error?: string }> };
    };
    expect(state.eventWebhook.deliveries.map((d) => d.attempt)).toEqual([1, 2, 3]);
    expect(state.eventWebhook.deliveries.every((d) => typeof d.error === 'string')).toBe(true);
  });

  it('accepts events over HTTP, as JSON and from the mailbox’s forms', async () => {
    const [response] = await mail.send(basic());
    const id = response.headers['x-message-id'] as string;
    const json = await fetch(`${base}/__emulator/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ messageId: id, email: 'ada@example.com', event: 'open' }),
    });
    expect(json.status).toBe(201);
    expect(await json.json()).toMatchObject({ event: 'open', email: 'ada@example.com' });

    const form = await fetch(`${base}/__emulator/events`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        messageId: id,
        email: 'ada@example.com',
        event: 'unsubscribe',
        redirect: `/__emulator/messages/${id}/ada%40example.com`,
      }).toString(),
    });
    expect(form.status).toBe(303);
    expect(form.headers.get('location')).toBe(`/__emulator/messages/${id}/ada%40example.com`);
    expect(emulator.messages()[0]?.events.map((e) => e.event)).toEqual([
      'processed',
      'delivered',
      'open',
      'unsubscribe',
    ]);

    const unknown = await fetch(`${base}/__emulator/events`, {
      method: 'POST',
      body: JSON.stringify({ messageId: id, email: 'ada@example.com', event: 'nope' }),
    });
    expect(unknown.status).toBe(400);
    expect((await fetch(`${base}/__emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect(emulator.messages()).toHaveLength(0);
  });
});

describe('mailbox page', () => {
  it('lists mail newest first and shows one message with escaped fields and a sandboxed iframe', async () => {
    await mail.send(basic({ subject: 'Older message' }));
    const [response] = await mail.send(
      basic({
        subject: '<script>alert(1)</script>',
        text: 'Plain <part> & more',
        html: '<p class="x" title=\'q\'>Hi & "bye"</p><script>alert(2)</script>',
        headers: { 'List-Unsubscribe': '<https://saypro.example/unsubscribe?u=1&k=2>' },
        customArgs: { userId: '<u1>' },
        categories: ['alerts'],
      }),
    );
    const id = response.headers['x-message-id'] as string;

    const inbox = await fetch(`${base}/`);
    expect(inbox.status).toBe(200);
    expect(inbox.headers.get('content-security-policy')).toContain("default-src 'none'");
    const inboxHtml = await inbox.text();
    expect(inboxHtml).not.toContain('<script>');
    expect(inboxHtml).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(inboxHtml.indexOf('&lt;script&gt;alert(1)')).toBeLessThan(inboxHtml.indexOf('Older message'));
    expect(inboxHtml).toContain(`/__emulator/messages/${id}/ada%40example.com`);
    expect(await (await fetch(`${base}/__emulator`)).text()).toContain('Older message');

    const detail = await fetch(`${base}/__emulator/messages/${id}/ada%40example.com`);
    expect(detail.status).toBe(200);
    const html = await detail.text();
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain(
      '<iframe sandbox="allow-popups allow-popups-to-escape-sandbox" referrerpolicy="no-referrer" title="HTML part" srcdoc="&lt;base target=&quot;_blank&quot;&gt;&lt;p class=&quot;x&quot; title=&#39;q&#39;&gt;Hi &amp; &quot;bye&quot;&lt;/p&gt;&lt;script&gt;alert(2)&lt;/script&gt;"></iframe>',
    );
    expect(html).toContain('<pre>Plain &lt;part&gt; &amp; more</pre>');
    expect(html).toContain('href="https://saypro.example/unsubscribe?u=1&amp;k=2"');
    expect(html).toContain('&lt;u1&gt;');
    expect(html).toContain('alerts');
    expect(html).toContain('delivered');

    expect((await fetch(`${base}/__emulator/messages/nope/ada%40example.com`)).status).toBe(404);
    const state = (await (await fetch(`${base}/__emulator/state`)).json()) as {
      messages: unknown[];
      eventWebhook: { publicKey: string };
    };
    expect(state.messages).toHaveLength(2);
    expect(state.eventWebhook.publicKey).toBe(emulator.publicKey());
  });
});
