import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client as HubSpotClient } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/contacts';
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from '@hubspot/api-client/lib/codegen/crm/properties';
import { Client as SendGridClient } from '@sendgrid/client';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { MailService } from '@sendgrid/mail';
import Stripe from 'stripe';
import { createHubSpotEmulator } from '../../emulators/hubspot/server';
import { createPayPalEmulator, EMULATOR_CLIENT, EMULATOR_WEBHOOK_ID } from '../../emulators/paypal/server';
import { createSendGridEmulator } from '../../emulators/sendgrid/server';
import { createStateFile } from '../../emulators/shared/state-file';
import { createStripeEmulator } from '../../emulators/stripe/server';
import { createLogger } from '../../lib/logger';
import type { CheckoutRequest } from '../../subgraphs/payments/provider/checkout-gateway.port';
import { createPayPalAdapter } from '../../subgraphs/payments/provider/paypal.adapter';
import { eventually } from '../helpers/eventually';

/**
 * Each emulator, given a state file, answers after a restart as it did before it: checked through
 * the real SDKs against a second emulator on the same file. A file that cannot be used is set aside.
 */

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-emulator-state-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A logger whose lines the test reads. */
function capturedLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

/** A webhook endpoint that keeps every body and answers `status()`. */
async function startReceiver(status: () => number) {
  const received: Array<{ body: string; headers: http.IncomingHttpHeaders }> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(status()).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhook`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('the state file', () => {
  it('writes a burst of changes once, with the latest state, when flushed', async () => {
    const file = path.join(dir, 'nested', 'x.json');
    let snapshots = 0;
    let value = 0;
    const state = createStateFile({
      file,
      emulator: 'x',
      version: 1,
      snapshot: () => (snapshots++, { value }),
      logger: createLogger({ level: 'silent' }),
      delayMs: 60_000,
    });
    for (value = 1; value <= 100; value++) state.touch();
    expect(fs.existsSync(file)).toBe(false); // nothing written per change
    await state.flush();
    expect(snapshots).toBe(1);
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toMatchObject({
      emulator: 'x',
      version: 1,
      state: { value: 101 },
    });
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    await state.flush();
    expect(snapshots).toBe(1); // nothing changed since
    expect(fs.readdirSync(path.dirname(file))).toEqual(['x.json']); // no temporary file left behind
  });

  it('writes by itself after the delay', async () => {
    const file = path.join(dir, 'x.json');
    const state = createStateFile({
      file,
      emulator: 'x',
      version: 1,
      snapshot: () => ({ n: 1 }),
      logger: createLogger({ level: 'silent' }),
      delayMs: 10,
    });
    state.touch();
    await eventually(async () => fs.existsSync(file), Boolean, 5000);
    expect(state.load((s) => s)).toEqual({ n: 1 });
    await state.close();
  });

  it.each([
    ['not JSON', '{"emulator": "x", "vers', 'corrupt', /x emulator state .* cannot be used: it is not valid JSON/],
    [
      "another emulator's",
      JSON.stringify({ emulator: 'y', version: 1, state: {} }),
      'corrupt',
      /it is not a x emulator state file/,
    ],
    [
      'a newer format',
      JSON.stringify({ emulator: 'x', version: 7, state: {} }),
      'newer',
      /written in format 7, newer than this version reads \(1\)/,
    ],
    [
      'a state that fails its check',
      JSON.stringify({ emulator: 'x', version: 1, state: { n: 'one' } }),
      'corrupt',
      /its state is not valid \(n must be a number\)/,
    ],
  ])('sets aside %s file in one warning and starts empty', (_what, content, kind, message) => {
    const file = path.join(dir, 'x.json');
    fs.writeFileSync(file, content);
    const { logger, lines } = capturedLogger();
    const state = createStateFile({ file, emulator: 'x', version: 1, snapshot: () => ({}), logger });
    const parse = (s: unknown) => {
      if (typeof (s as { n: unknown }).n !== 'number') throw new Error('n must be a number');
      return s;
    };
    expect(state.load(parse)).toBeUndefined();
    expect(fs.existsSync(file)).toBe(false);
    const aside = fs.readdirSync(dir);
    expect(aside).toEqual([expect.stringMatching(new RegExp(`^x\\.json\\.${kind}-`))]);
    expect(fs.readFileSync(path.join(dir, aside[0]!), 'utf8')).toBe(content); // kept, for a look
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'warn', msg: expect.stringMatching(message) });
    expect(String(lines[0]!.msg)).toContain(path.join(dir, aside[0]!));
  });
});

describe('Stripe emulator state', () => {
  const WEBHOOK_SECRET = 'whsec_state_test';
  const file = () => path.join(dir, 'stripe.json');
  const start = async (options: { webhookUrl?: string; logger?: ReturnType<typeof createLogger> } = {}) => {
    const emulator = createStripeEmulator({
      webhookSecret: WEBHOOK_SECRET,
      stateFile: file(),
      webhookRetryDelaysMs: [60_000],
      ...options,
    });
    const base = await emulator.listen();
    const stripe = new Stripe('sk_test_state', {
      host: '127.0.0.1',
      port: Number(new URL(base).port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
    return { emulator, base, stripe };
  };
  const payment = (paymentMethod: string): Stripe.PaymentIntentCreateParams => ({
    amount: 1500,
    currency: 'usd',
    payment_method: paymentMethod,
    confirm: true,
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    metadata: { listing_id: 'lst_1' },
  });

  it('keeps PaymentIntents (3-D Secure ones can be finished), refunds, events and idempotent answers across a restart', async () => {
    const down = await startReceiver(() => 503);
    const first = await start({ webhookUrl: down.url });
    const pending = await first.stripe.paymentIntents.create(payment('pm_card_authenticationRequired'));
    const paid = await first.stripe.paymentIntents.create(payment('pm_card_visa'), { idempotencyKey: 'charge-once' });
    const refund = await first.stripe.refunds.create({ payment_intent: paid.id, amount: 500 });
    await eventually(
      async () => down.received.length,
      (n) => n >= 1,
      5000,
    ); // the endpoint was down
    await first.emulator.close();
    await down.close();
    expect(pending.status).toBe('requires_action');

    const up = await startReceiver(() => 200);
    const second = await start();
    try {
      expect(await second.stripe.paymentIntents.retrieve(pending.id)).toMatchObject({
        status: 'requires_action',
        client_secret: pending.client_secret,
      });
      expect((await second.stripe.refunds.retrieve(refund.id)).amount).toBe(500);
      const replay = await second.stripe.paymentIntents.create(payment('pm_card_visa'), {
        idempotencyKey: 'charge-once',
      });
      expect(replay.id).toBe(paid.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
      const other = await second.stripe.paymentIntents
        .create({ ...payment('pm_card_visa'), amount: 99 }, { idempotencyKey: 'charge-once' })
        .catch((err: unknown) => err);
      expect(other).toMatchObject({ type: 'StripeIdempotencyError' });

      // Events the first run could not deliver go out once there is an endpoint, before the new ones.
      second.emulator.setWebhookUrl(up.url);
      // The customer finishes 3-D Secure after the restart (the emulator's page posts this).
      const completed = await fetch(`${second.base}/__emulator/payment_intents/${pending.id}/complete_action`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(completed.status).toBe(200);
      expect((await second.stripe.paymentIntents.retrieve(pending.id)).status).toBe('succeeded');
      await second.emulator.flushWebhooks();
      const delivered = up.received.map((r) =>
        second.stripe.webhooks.constructEvent(r.body, String(r.headers['stripe-signature']), WEBHOOK_SECRET),
      );
      expect(delivered.map((event) => [event.type, (event.data.object as { id: string }).id])).toEqual([
        ['payment_intent.succeeded', paid.id],
        ['charge.refunded', paid.latest_charge],
        ['payment_intent.succeeded', pending.id],
      ]);
      const events = await second.stripe.events.list({ limit: 100 });
      expect(events.data.map((event) => event.pending_webhooks)).toEqual([0, 0, 0]);
    } finally {
      await second.emulator.close();
      await up.close();
    }
  });

  it('does not write per request: a burst is saved once, on close', async () => {
    const emulator = createStripeEmulator({
      webhookSecret: WEBHOOK_SECRET,
      stateFile: file(),
      stateSaveDelayMs: 60_000,
    });
    const base = await emulator.listen();
    const stripe = new Stripe('sk_test_state', {
      host: '127.0.0.1',
      port: Number(new URL(base).port),
      protocol: 'http',
      telemetry: false,
      maxNetworkRetries: 0,
    });
    await Promise.all(Array.from({ length: 20 }, () => stripe.paymentIntents.create(payment('pm_card_visa'))));
    expect(fs.existsSync(file())).toBe(false);
    await emulator.close();
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as {
      version: number;
      state: { paymentIntents: unknown[] };
    };
    expect(saved.version).toBe(1);
    expect(saved.state.paymentIntents).toHaveLength(20);
  });

  it('starts empty on a corrupt file, sets it aside and says so in one line', async () => {
    fs.writeFileSync(file(), '{"emulator":"stripe","version":1,"state":{"paymentIntents":"nope"}}');
    const { logger, lines } = capturedLogger();
    const { emulator, stripe } = await start({ logger });
    try {
      expect((await stripe.paymentIntents.list()).data).toEqual([]);
      const warnings = lines.filter((line) => line.level === 'warn');
      expect(warnings).toEqual([
        expect.objectContaining({
          msg: expect.stringMatching(
            /stripe emulator state .* cannot be used: its state is not valid \(paymentIntents: Expected array/,
          ),
        }),
      ]);
      expect(fs.readdirSync(dir).some((name) => name.startsWith('stripe.json.corrupt-'))).toBe(true);
    } finally {
      await emulator.close();
    }
  });
});

describe('SendGrid emulator state', () => {
  const file = () => path.join(dir, 'sendgrid.json');
  const start = async (webhookUrl?: string) => {
    const emulator = createSendGridEmulator({
      stateFile: file(),
      eventWebhookUrl: webhookUrl,
      webhookRetryDelaysMs: [60_000],
    });
    const base = await emulator.listen();
    const client = new SendGridClient();
    client.setApiKey('SG.state-test'); // before baseUrl: setApiKey resets it
    client.setDefaultRequest('baseUrl', base);
    const mail = new MailService();
    mail.setClient(client);
    return { emulator, base, client, mail };
  };

  it('keeps the mailbox, single sends, suppressions, the signing key and undelivered events across a restart', async () => {
    const down = await startReceiver(() => 500);
    const first = await start(down.url);
    await first.mail.send({
      to: 'ada@example.com',
      from: 'shop@example.com',
      subject: 'Your receipt',
      text: 'Thanks',
      customArgs: { listing_id: 'l1' },
    });
    await first.mail.send({ to: 'gone@example.com', from: 'shop@example.com', subject: 'Hello', text: 'Hi' });
    const gone = first.emulator.messages().find((m) => m.to[0]!.email === 'gone@example.com')!;
    first.emulator.emitEvent(gone.id, 'gone@example.com', 'bounce');
    const sendAt = new Date(Date.now() + 24 * 3600 * 1000).toISOString();
    const [, created] = await first.client.request({
      method: 'POST',
      url: '/v3/marketing/singlesends',
      body: {
        name: 'Spring',
        send_to: { emails: ['bob@example.com'] },
        email_config: { subject: 'Spring', html_content: '<p>Hi</p>', sender_id: 1, suppression_group_id: 1 },
      },
    });
    const singleSendId = (created as { id: string }).id;
    await first.client.request({
      method: 'PUT',
      url: `/v3/marketing/singlesends/${singleSendId}/schedule`,
      body: { send_at: sendAt },
    });
    await eventually(
      async () => down.received.length,
      (n) => n >= 1,
      5000,
    );
    const publicKey = first.emulator.publicKey();
    await first.emulator.close();
    await down.close();

    const up = await startReceiver(() => 200);
    const second = await start();
    try {
      expect(second.emulator.publicKey()).toBe(publicKey);
      const state = (await (await fetch(`${second.base}/__emulator/state`)).json()) as {
        messages: Array<{ subject: string; to: Array<{ email: string }>; customArgs: Record<string, string> }>;
      };
      expect(state.messages.map((m) => [m.to[0]!.email, m.subject])).toEqual([
        ['ada@example.com', 'Your receipt'],
        ['gone@example.com', 'Hello'],
      ]);
      expect(state.messages[0]!.customArgs).toEqual({ listing_id: 'l1' });
      const page = await (await fetch(`${second.base}/`)).text();
      expect(page).toContain('Your receipt');
      const [response, singleSend] = await second.client.request({
        method: 'GET',
        url: `/v3/marketing/singlesends/${singleSendId}`,
      });
      expect(response.statusCode).toBe(200);
      expect(singleSend).toMatchObject({ name: 'Spring', status: 'scheduled', send_at: sendAt });

      // The bounce is remembered: mail to that address is dropped.
      await second.mail.send({ to: 'gone@example.com', from: 'shop@example.com', subject: 'Again', text: 'Hi' });
      const again = second.emulator.messages().find((m) => m.subject === 'Again')!;
      expect(again.events.map((e) => e.event)).toEqual(['processed', 'dropped']);

      // What the first run owed the endpoint arrives, verifiable with the same key.
      second.emulator.setEventWebhookUrl(up.url);
      await second.emulator.flushWebhooks();
      const webhook = new EventWebhook();
      const key = webhook.convertPublicKeyToECDSA(publicKey);
      const events = up.received.flatMap((r) => {
        const signature = String(r.headers['x-twilio-email-event-webhook-signature']);
        const timestamp = String(r.headers['x-twilio-email-event-webhook-timestamp']);
        expect(webhook.verifySignature(key, r.body, signature, timestamp)).toBe(true);
        return JSON.parse(r.body) as Array<{ email: string; event: string; listing_id?: string }>;
      });
      expect(events).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ email: 'ada@example.com', event: 'delivered', listing_id: 'l1' }),
          expect.objectContaining({ email: 'gone@example.com', event: 'bounce' }),
        ]),
      );
    } finally {
      await second.emulator.close();
      await up.close();
    }
  });

  it('schedules again what was scheduled: mail with a send_at is delivered, a single send goes out (at once when its time passed while stopped)', async () => {
    const first = await start();
    const later = Math.floor(Date.now() / 1000) + 24 * 3600;
    await first.mail.send({
      to: 'ada@example.com',
      from: 'shop@example.com',
      subject: 'Tomorrow',
      text: 'Soon',
      sendAt: later,
    });
    const [, created] = await first.client.request({
      method: 'POST',
      url: '/v3/marketing/singlesends',
      body: {
        name: 'Later',
        send_to: { emails: ['bob@example.com'] },
        email_config: { subject: 'Later', plain_content: 'Hi', sender_id: 1, suppression_group_id: 1 },
      },
    });
    const singleSendId = (created as { id: string }).id;
    await first.client.request({
      method: 'PUT',
      url: `/v3/marketing/singlesends/${singleSendId}/schedule`,
      body: { send_at: new Date(later * 1000).toISOString() },
    });
    expect(first.emulator.messages()[0]!.events.map((e) => e.event)).toEqual(['processed']);
    await first.emulator.close();

    // The emulator was stopped past both times.
    const saved = JSON.parse(fs.readFileSync(file(), 'utf8')) as {
      state: { messages: Array<{ message: { sendAt: number } }>; singleSends: Array<{ send_at: string }> };
    };
    saved.state.messages[0]!.message.sendAt = Math.floor(Date.now() / 1000) - 60;
    saved.state.singleSends[0]!.send_at = new Date(Date.now() - 60_000).toISOString();
    fs.writeFileSync(file(), JSON.stringify(saved));

    const second = await start();
    try {
      await eventually(
        async () => second.emulator.messages(),
        (messages) => messages.length === 2 && messages[0]!.events.some((e) => e.event === 'delivered'),
        5000,
      );
      expect(second.emulator.messages().map((m) => [m.to[0]!.email, m.subject])).toEqual([
        ['ada@example.com', 'Tomorrow'],
        ['bob@example.com', 'Later'],
      ]);
      const [, singleSend] = await second.client.request({
        method: 'GET',
        url: `/v3/marketing/singlesends/${singleSendId}`,
      });
      expect(singleSend).toMatchObject({ status: 'triggered' });
    } finally {
      await second.emulator.close();
    }
  });

  it('starts empty on a file that is not JSON, and sets it aside', async () => {
    fs.writeFileSync(file(), 'garbage');
    const { emulator, base } = await start();
    try {
      const state = (await (await fetch(`${base}/__emulator/state`)).json()) as { messages: unknown[] };
      expect(state.messages).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual([expect.stringMatching(/^sendgrid\.json\.corrupt-/)]);
    } finally {
      await emulator.close();
    }
  });
});

describe('HubSpot emulator state', () => {
  const file = () => path.join(dir, 'hubspot.json');
  const start = async () => {
    const emulator = createHubSpotEmulator({ stateFile: file() });
    const base = await emulator.listen();
    const client = new HubSpotClient({ accessToken: 'pat-state', basePath: base, numberOfApiCallRetries: 0 });
    return { emulator, contacts: client.crm.contacts, properties: client.crm.properties.coreApi };
  };

  it('keeps contacts, their ids and custom properties across a restart', async () => {
    const first = await start();
    await first.properties.create('contacts', {
      name: 'saypro_listing_count',
      label: 'Listings',
      type: PropertyCreateTypeEnum.Number,
      fieldType: PropertyCreateFieldTypeEnum.Number,
      groupName: 'contactinformation',
    });
    const ada = await first.contacts.basicApi.create({
      properties: { email: 'ada@example.com', firstname: 'Ada', saypro_listing_count: '2' },
      associations: [],
    });
    const gone = await first.contacts.basicApi.create({ properties: { email: 'gone@example.com' }, associations: [] });
    await first.contacts.basicApi.archive(gone.id);
    await first.emulator.close();

    const second = await start();
    try {
      const read = await second.contacts.basicApi.getById(ada.id, ['email', 'firstname', 'saypro_listing_count']);
      expect(read.properties).toMatchObject({ email: 'ada@example.com', firstname: 'Ada', saypro_listing_count: '2' });
      expect(read.createdAt.toISOString()).toBe(ada.createdAt.toISOString());
      expect((await second.properties.getByName('contacts', 'saypro_listing_count')).label).toBe('Listings');
      const found = await second.contacts.searchApi.doSearch({
        filterGroups: [
          { filters: [{ propertyName: 'email', operator: FilterOperatorEnum.Eq, value: 'ada@example.com' }] },
        ],
        properties: ['email'],
        limit: 10,
        after: '0',
        sorts: [],
      });
      expect(found.results.map((c) => c.id)).toEqual([ada.id]);
      // Ids are not reused, not even the archived contact's.
      const next = await second.contacts.basicApi.create({
        properties: { email: 'bob@example.com' },
        associations: [],
      });
      expect(Number(next.id)).toBeGreaterThan(Number(gone.id));
    } finally {
      await second.emulator.close();
    }
  });

  it('starts empty on a file of a newer format, and sets it aside', async () => {
    fs.writeFileSync(file(), JSON.stringify({ emulator: 'hubspot', version: 2, state: {} }));
    const { emulator, contacts } = await start();
    try {
      expect((await contacts.basicApi.getPage()).results).toEqual([]);
      expect(fs.readdirSync(dir)).toEqual([expect.stringMatching(/^hubspot\.json\.newer-/)]);
    } finally {
      await emulator.close();
    }
  });
});

describe('PayPal emulator state', () => {
  const file = () => path.join(dir, 'paypal.json');
  const silent = createLogger({ level: 'silent' });
  const started: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  /** An emulator on the file, and our PayPal adapter (the client payments uses) talking to it. */
  async function start(options: { logger?: ReturnType<typeof createLogger> } = {}) {
    const emulator = createPayPalEmulator({ stateFile: file(), stateSaveDelayMs: 60_000, logger: options.logger });
    const apiUrl = await emulator.listen();
    const paypal = createPayPalAdapter({
      clientId: EMULATOR_CLIENT.id,
      clientSecret: EMULATOR_CLIENT.secret,
      apiUrl,
      webhookId: EMULATOR_WEBHOOK_ID,
      logger: silent,
    });
    started.push(paypal, emulator);
    return { emulator, paypal };
  }
  let n = 0;
  const order = (): CheckoutRequest => ({
    paymentId: `00000000-0000-4000-8000-${String((n += 1)).padStart(12, '0')}`,
    amount: 1000,
    currency: 'USD',
    description: 'Posting fee',
    returnUrl: 'http://127.0.0.1:4000/paypal/return',
    cancelUrl: 'http://127.0.0.1:4000/paypal/cancel',
  });

  it('keeps orders, captures, refunds, events and request ids across a restart; tokens are fetched again', async () => {
    const before = await start();
    const paidRequest = order();
    const paid = await before.paypal.createOrder(paidRequest, 1);
    before.emulator.approve(paid.orderId);
    const captured = await before.paypal.captureOrder(paid.orderId, paidRequest.paymentId, 1);
    if (captured.kind !== 'captured') throw new Error(`not captured: ${captured.kind}`);
    const refundRequest = {
      paymentId: paidRequest.paymentId,
      refundId: 'refund-1',
      captureId: captured.order.capture!.id,
      currency: 'USD',
      amount: 300,
    };
    const refund = await before.paypal.refundCapture(refundRequest, 1);
    const approvedRequest = order();
    const approved = await before.paypal.createOrder(approvedRequest, 1);
    before.emulator.approve(approved.orderId);
    const openRequest = order();
    const open = await before.paypal.createOrder(openRequest, 1);
    const events = before.emulator.state().events.map((e) => [e.id, e.event_type]);
    expect(events.length).toBeGreaterThanOrEqual(4); // approved twice, capture completed, refunded
    await Promise.all(started.splice(0).map((s) => s.close()));

    const after = await start();
    // The same PayPal-Request-Id answers the same order, not a second one.
    const again = await after.paypal.createOrder(openRequest, 1);
    expect(again.orderId).toBe(open.orderId);
    expect(new URL(again.approvalUrl).search).toBe(new URL(open.approvalUrl).search); // a new port, the same page
    expect(
      after.emulator
        .state()
        .orders.map((o) => o.id)
        .sort(),
    ).toEqual([paid.orderId, approved.orderId, open.orderId].sort());
    // An order approved before the restart is captured after it; the one captured before is not captured again.
    expect(await after.paypal.captureOrder(approved.orderId, approvedRequest.paymentId, 1)).toMatchObject({
      kind: 'captured',
      order: { capture: { status: 'completed', amount: 1000 } },
    });
    expect(await after.paypal.captureOrder(paid.orderId, paidRequest.paymentId, 1)).toMatchObject({
      kind: 'captured',
      order: { capture: { id: captured.order.capture!.id, amountRefunded: 300, status: 'partially_refunded' } },
    });
    // The refund's request id answers the same refund; the rest can still be refunded, and no more.
    expect(await after.paypal.refundCapture(refundRequest, 1)).toEqual(refund);
    expect((await after.paypal.refundCapture({ ...refundRequest, refundId: 'refund-2', amount: 700 }, 1)).amount).toBe(
      700,
    );
    expect(
      after.emulator
        .state()
        .events.slice(0, events.length)
        .map((e) => [e.id, e.event_type]),
    ).toEqual(events);
    expect(after.emulator.state().tokens.tokenRequests).toBe(1);
  });

  it('starts empty on a file of another emulator, and sets it aside', async () => {
    fs.writeFileSync(file(), '{"emulator":"stripe","version":1,"state":{}}');
    const { logger, lines } = capturedLogger();
    const { emulator } = await start({ logger });
    expect(emulator.state().orders).toEqual([]);
    expect(lines.filter((line) => line.level === 'warn')).toEqual([
      expect.objectContaining({
        msg: expect.stringMatching(/paypal emulator state .* cannot be used: it is not a paypal emulator state file/),
      }),
    ]);
    expect(fs.readdirSync(dir).some((name) => name.startsWith('paypal.json.corrupt-'))).toBe(true);
  });
});
