import { randomUUID } from 'node:crypto';
import type { StoredMessage } from '../../emulators/sendgrid/server';
import type { EventEnvelope } from '../../lib/events';
import { users } from '../../subgraphs/listings/db/schema';
import { EMAIL_EVENTS_QUEUE } from '../../subgraphs/email/events/mail-triggers.consumer';
import {
  CampaignDocument,
  ChargeListingDocument,
  CreateCampaignDocument,
  EmailMessageDocument,
  SendCampaignDocument,
  SendEmailDocument,
  UpdateEmailPreferencesDocument,
  UserEmailsDocument,
  type EmailPreferencesInput,
  type EmailTemplate,
  type SendEmailInput,
} from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { settled } from '../helpers/settled';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf, errorOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let admin: TestUser;

const mailsTo = (email: string): StoredMessage[] =>
  stack.sendgrid!.messages().filter((m) => m.to.some((t) => t.email.toLowerCase() === email.toLowerCase()));
const send = (input: SendEmailInput, token = admin.token) => stack.graph(SendEmailDocument, { input }, { token });
const emailsOf = async (user: TestUser, viewer = user) =>
  dataOf(await stack.graph(UserEmailsDocument, { id: user.id, first: 50 }, { token: viewer.token })).user;
const messageOf = async (id: string) =>
  dataOf(await stack.graph(EmailMessageDocument, { id }, { token: admin.token })).emailMessage;
const setPrefs = async (user: TestUser, input: EmailPreferencesInput) =>
  dataOf(await stack.graph(UpdateEmailPreferencesDocument, { userId: user.id, input }, { token: user.token }))
    .updateEmailPreferences;
const promotion = {
  subject: 'Spring deals',
  headline: 'Spring is here',
  body: 'Half-price featured listings all week.',
};
const rest = async (path: string, init: { method?: string; token?: string; body?: unknown } = {}) => {
  const res = await fetch(new URL(path, stack.urls.gateway), {
    method: init.method ?? 'GET',
    headers: { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}) },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

// Outage and recovery tests wait for backoff; a loaded machine makes everything slower.
jest.setTimeout(120_000);

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    EMAIL_SEND_INTERVAL_MS: '50',
    EMAIL_RETRY_BASE_DELAY_MS: '50',
    EMAIL_RETRY_MAX_DELAY_MS: '300',
    PROVIDER_RETRY_DELAY_MS: '5',
    PROVIDER_BREAKER_COOLDOWN_MS: '300',
    SENDGRID_TIMEOUT_MS: '1500',
  });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
});
afterAll(() => stack?.stop());
afterEach(() => stack.sendgrid!.clearFaults());

describe('mail from events', () => {
  it('welcomes a new user once, and follows the mail to DELIVERED through the signed event webhook', async () => {
    const ada = await registerUser(stack, 'Ada Lovelace');
    const [welcome] = await eventually(
      async () => mailsTo(ada.email),
      (m) => m.length > 0,
    );
    expect(welcome!.subject).toBe('Welcome to SayPro'); // user-chosen text never in a subject line
    expect(welcome!.html).toContain('Welcome, Ada Lovelace!');
    expect(welcome!.text).toContain('Your SayPro account is ready.');
    expect(welcome!.headers['List-Unsubscribe']).toBeUndefined();
    const emails = await eventually(
      () => emailsOf(ada),
      (u) => u.emails?.nodes[0]?.status === 'DELIVERED',
    );
    expect(emails.emails!.nodes).toHaveLength(1);
    expect(emails.emails!.nodes[0]).toMatchObject({
      template: 'WELCOME',
      kind: 'TRANSACTIONAL',
      to: ada.email,
      status: 'DELIVERED',
      providerMessageId: welcome!.id,
    });
    expect(emails.emails!.nodes[0]!.deliveredAt).toEqual(expect.any(String));
    expect(mailsTo(ada.email)).toHaveLength(1);
  });

  it('sends the receipt on payment, the published notice on activation, and alerts only to users whose category and keywords match', async () => {
    const seller = await registerUser(stack, 'Sally Seller');
    const bikeFan = await registerUser(stack, 'Bob Bikes');
    const carFan = await registerUser(stack, 'Carol Cars');
    const jobsFan = await registerUser(stack, 'Dave Jobs');
    const anyVehicle = await registerUser(stack, 'Vera Vehicles');
    const off = await registerUser(stack, 'Otto Off');
    await setPrefs(bikeFan, { newListingAlerts: { enabled: true, categories: ['VEHICLES'], keywords: ['Bike'] } });
    await setPrefs(carFan, { newListingAlerts: { enabled: true, categories: ['VEHICLES'], keywords: ['car'] } });
    await setPrefs(jobsFan, { newListingAlerts: { enabled: true, categories: ['JOBS'] } });
    await setPrefs(anyVehicle, { newListingAlerts: { enabled: true, categories: ['VEHICLES'], keywords: [] } });
    await setPrefs(off, { newListingAlerts: { enabled: false, categories: ['VEHICLES'], keywords: ['bike'] } });

    const listing = await createListing(stack, seller, {
      title: 'Mountain bike <b>bargain</b>',
      location: 'Cape Town',
      price: { amount: 25_000, currency: 'USD' },
    });
    expect(listing.status).toBe('PENDING_PAYMENT');
    const charged = dataOf(
      await stack.graph(
        ChargeListingDocument,
        { input: { listingId: listing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: randomUUID() } },
        { token: seller.token },
      ),
    ).chargeListing;
    expect(charged.status).toBe('SUCCEEDED');

    const sellerMail = await eventually(
      async () => mailsTo(seller.email),
      (m) => m.length >= 3,
    );
    const subjects = sellerMail.map((m) => m.subject).sort();
    expect(subjects).toEqual(['Welcome to SayPro', 'Your SayPro receipt: $10.00', 'Your listing is live on SayPro']);
    const receipt = sellerMail.find((m) => m.subject.startsWith('Your SayPro receipt'))!;
    expect(receipt.html).toContain('Mountain bike &lt;b&gt;bargain&lt;/b&gt;'); // user content is escaped in HTML
    expect(receipt.html).not.toContain('<b>bargain</b>');
    expect(receipt.text).toContain('Mountain bike <b>bargain</b>'); // and kept as typed in the text part
    expect(receipt.text).toContain(charged.transactionId!);

    const alerts = await eventually(
      async () => [bikeFan, anyVehicle].map((u) => mailsTo(u.email).filter((m) => m.subject.startsWith('New in'))),
      (l) => l.every((x) => x.length === 1),
    );
    const alert = alerts[0]![0]!;
    expect(alert.subject).toBe('New in VEHICLES on SayPro: $250.00');
    expect(alert.html).toContain('Cape Town');
    expect(alert.html).toContain('Hardtail, 29 inch wheels, new brakes.');
    // The listing's page on SayPro's site (SITE_URL's default), not a path on the gateway.
    expect(alert.html).toContain(`http://127.0.0.1:3000/listings/${listing.id}-mountain-bike-b-bargain-b`);
    expect(alert.headers['List-Unsubscribe']).toMatch(/^<http:\/\/127\.0\.0\.1:\d+\/email\/unsubscribe\?token=[^>]+>$/);
    expect(alert.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
    expect(alerts[1]).toHaveLength(1);
    // Once every event is consumed and no mail is due, nobody else has one coming.
    await settled(stack);
    for (const user of [carFan, jobsFan, off, seller])
      expect(mailsTo(user.email).filter((m) => m.subject.startsWith('New in'))).toEqual([]);
  });

  it('alerts on a free listing that is ACTIVE from creation', async () => {
    const seller = await registerUser(stack, 'Jo Jobs');
    const seeker = await registerUser(stack, 'Sam Seeker');
    await setPrefs(seeker, { newListingAlerts: { enabled: true, categories: ['JOBS'], keywords: ['barista'] } });
    const listing = await createListing(stack, seller, {
      category: 'JOBS',
      title: 'Barista wanted',
      description: 'Morning shifts.',
      price: { amount: 0, currency: 'USD' },
    });
    expect(listing.status).toBe('ACTIVE');
    const mail = await eventually(
      async () => mailsTo(seeker.email).filter((m) => m.subject.startsWith('New in JOBS')),
      (m) => m.length === 1,
    );
    expect(mail[0]!.text).toContain('Barista wanted');
    await eventually(
      async () => mailsTo(seller.email).filter((m) => m.subject.includes('is live')),
      (m) => m.length === 1,
    );
  });

  it('sends once per event and recipient when an event is delivered twice', async () => {
    const email = `dup.${randomUUID().slice(0, 8)}@example.com`;
    const envelope: EventEnvelope<'user.created'> = {
      id: randomUUID(),
      name: 'user.created',
      source: 'test',
      occurredAt: new Date().toISOString(),
      data: { userId: randomUUID(), name: 'Dup Licate', email },
    };
    await stack.bus.boss.send(EMAIL_EVENTS_QUEUE, envelope as unknown as object);
    await stack.bus.boss.send(EMAIL_EVENTS_QUEUE, envelope as unknown as object);
    await eventually(
      async () => mailsTo(email),
      (m) => m.length > 0,
    );
    // A replay straight into the handler, past the inbox (a crash before the inbox entry), still queues nothing new.
    await stack.email.mail.handle(envelope);
    await stack.email.email.flush();
    await settled(stack);
    expect(mailsTo(email)).toHaveLength(1);
  });
});

describe('sendEmail', () => {
  const data: Record<EmailTemplate, Record<string, unknown>> = {
    WELCOME: {},
    CONFIRM_EMAIL: { confirmUrl: 'https://saypro.example/email/confirm?token=t' },
    LISTING_PUBLISHED: {
      listingTitle: 'Red sofa',
      listingUrl: 'https://saypro.example/listings/1',
      expiresAt: 'Mon, 01 Jun 2026',
    },
    PAYMENT_RECEIPT: {
      listingTitle: 'Red sofa',
      amount: '$10.00',
      paymentId: 'pay_1',
      providerReference: 'pi_1',
      paidAt: 'today',
    },
    NEW_LISTING_ALERT: {
      listingTitle: 'Red sofa',
      listingPrice: '$120.00',
      listingCategory: 'HOME_AND_GARDEN',
      listingLocation: 'Durban',
      listingDescription: 'Three seats.',
      listingUrl: 'https://saypro.example/listings/1',
    },
    PROMOTION: { ...promotion, ctaUrl: 'https://saypro.example/deals', ctaLabel: 'See deals' },
    ACCOUNT_UPDATE: { summary: 'password changed', message: 'Your password was changed.' },
  };

  it('sends every template to a user, marketing ones with an unsubscribe link and List-Unsubscribe headers', async () => {
    const kim = await registerUser(stack, 'Kim <i>Kay</i> Lee');
    await setPrefs(kim, { newListingAlerts: { enabled: true } }); // alerts are opt-in
    for (const template of Object.keys(data) as EmailTemplate[]) {
      const message = dataOf(await send({ userId: kim.id, template, data: data[template] })).sendEmail;
      expect(['SENT', 'DELIVERED']).toContain(message.status);
      expect(message).toMatchObject({ template, to: kim.email, userId: kim.id, attempts: 1 });
      const stored = stack.sendgrid!.messages().find((m) => m.id === message.providerMessageId)!;
      expect(stored.subject).toBe(message.subject);
      expect(stored.customArgs.saypro_message_id).toBe(message.id);
      expect(stored.html).toMatch(/^<!doctype html>/);
      expect(stored.text!.length).toBeGreaterThan(20);
      const marketing = template === 'PROMOTION' || template === 'NEW_LISTING_ALERT';
      expect(message.kind).toBe(marketing ? 'MARKETING' : template === 'ACCOUNT_UPDATE' ? 'ACCOUNT' : 'TRANSACTIONAL');
      if (marketing) {
        expect(stored.headers['List-Unsubscribe']).toMatch(/\/email\/unsubscribe\?token=/);
        expect(stored.headers['List-Unsubscribe-Post']).toBe('List-Unsubscribe=One-Click');
        expect(stored.html!.replaceAll('&#x3D;', '=')).toContain(stored.headers['List-Unsubscribe']!.slice(1, -1)); // Handlebars escapes = in attributes
        expect(stored.text).toContain('Unsubscribe: http');
      } else {
        expect(stored.headers['List-Unsubscribe']).toBeUndefined();
        expect(stored.html).not.toContain('unsubscribe');
      }
      if (template !== 'PROMOTION') expect(stored.html).toContain('Kim &lt;i&gt;Kay&lt;/i&gt; Lee');
    }
    const promo = stack.sendgrid!.messages().find((m) => m.subject === 'Spring deals' && m.to[0]!.email === kim.email)!;
    expect(promo.html).toContain('href="https://saypro.example/deals"');
  });

  it('sends to a bare address and is idempotent by key', async () => {
    const to = `guest.${randomUUID().slice(0, 8)}@example.com`;
    const input = {
      to,
      template: 'ACCOUNT_UPDATE' as const,
      data: { name: 'Guest', summary: 'hello', message: 'Hi there' },
      idempotencyKey: `k-${randomUUID()}`,
    };
    const first = dataOf(await send(input)).sendEmail;
    const again = dataOf(await send(input)).sendEmail;
    expect(again.id).toBe(first.id);
    expect(mailsTo(to)).toHaveLength(1);
  });

  it('answers bad input with typed errors and sends nothing', async () => {
    const user = await registerUser(stack, 'Nora Noinput');
    await eventually(
      async () => mailsTo(user.email),
      (m) => m.length === 1,
    );
    const stored = async () => (await emailsOf(user, admin)).emails!.nodes.length;
    const storedBefore = await stored();
    expect(errorOf(await send({ userId: randomUUID(), template: 'WELCOME' })).extensions).toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(
      errorOf(await send({ to: 'not-an-address', template: 'WELCOME', data: { name: 'X' } })).extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'to' });
    const missing = errorOf(await send({ userId: user.id, template: 'PROMOTION', data: { subject: 'Hi' } }));
    expect(missing.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.headline' });
    expect((missing.extensions.fields as Array<{ field: string }>).map((f) => f.field)).toEqual([
      'data.headline',
      'data.body',
    ]);
    expect(
      errorOf(
        await send({ userId: user.id, template: 'PROMOTION', data: { ...promotion, ctaUrl: 'javascript:alert(1)' } }),
      ).extensions,
    ).toMatchObject({ field: 'data.ctaUrl' });
    expect(errorOf(await send({ userId: user.id, to: user.email, template: 'WELCOME' })).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
    });
    const unknownTemplate = await send({ userId: user.id, template: 'NEWSLETTER' as EmailTemplate });
    expect(unknownTemplate.status).toBe(400);
    expect(errorOf(unknownTemplate).message).toContain('EmailTemplate');
    expect(errorOf(await send({ userId: user.id, template: 'WELCOME' }, user.token)).extensions.code).toBe('FORBIDDEN');
    // Nothing sent, nothing stored (other tests' mail may still be going out, so count this user's).
    expect(mailsTo(user.email)).toHaveLength(1);
    expect(mailsTo('not-an-address')).toEqual([]);
    expect(await stored()).toBe(storedBefore);
  });

  it('fails a mail SendGrid refuses (400) with its reason, once, without retrying', async () => {
    const message = dataOf(
      await send({
        to: 'ada@example.c',
        template: 'ACCOUNT_UPDATE',
        data: { name: 'Ada', summary: 's', message: 'm' },
      }),
    ).sendEmail;
    expect(message.status).toBe('FAILED');
    expect(message.statusReason).toMatch(/SendGrid refused the mail \(400\).*valid address/);
    // The sender leaves a FAILED mail alone: run it directly rather than waiting for its ticks.
    await stack.email.email.flush();
    expect(await messageOf(message.id)).toMatchObject({ status: 'FAILED', attempts: 1 });
    // One call to SendGrid for it, no retry.
    expect(
      stack.logs.filter((l) => l.provider === 'sendgrid' && l.messageId === message.id).map((l) => l.status),
    ).toEqual([400]);
  });

  it('queues during an outage and delivers everything once when SendGrid is back', async () => {
    const to = (i: number) => `outage.${i}.${randomUUID().slice(0, 6)}@example.com`;
    const addresses = [0, 1, 2, 3].map(to);
    stack.sendgrid!.setFaults([{ kind: 'server_error', status: 503, path: '/v3/mail/send' }]);
    const queued: Array<{ id: string }> = [];
    for (const address of addresses) {
      const m = dataOf(
        await send({
          to: address,
          template: 'ACCOUNT_UPDATE',
          data: { name: 'N', summary: 'outage', message: 'during an outage' },
        }),
      ).sendEmail;
      expect(m.status).toBe('QUEUED');
      expect(m.statusReason).toContain('SendGrid unavailable');
      queued.push(m);
    }
    const ready = await eventually(
      async () =>
        (await fetch(new URL('/health/ready', stack.urls.subgraphs.email)).then((r) => r.json())) as {
          checks: Record<string, string>;
        },
      (r) => r.checks.sendgrid === 'degraded',
      15_000,
    );
    expect(ready.checks.sendgrid).toBe('degraded');
    // The sender has tried again meanwhile, and nothing got through.
    await eventually(
      () => Promise.all(queued.map((m) => messageOf(m.id))),
      (ms) => ms.every((m) => m.attempts > 1),
    );
    expect(addresses.flatMap(mailsTo)).toEqual([]);
    stack.sendgrid!.clearFaults();
    const done = await eventually(
      () => Promise.all(queued.map((m) => messageOf(m.id))),
      (ms) => ms.every((m) => m.status === 'DELIVERED'),
      45_000,
    );
    expect(done.every((m) => m.attempts > 1)).toBe(true);
    for (const address of addresses) expect(mailsTo(address)).toHaveLength(1);
  });
});

describe('SendGrid down', () => {
  it('keeps mail queued while SendGrid refuses connections and sends it once when it is back', async () => {
    const port = Number(new URL(stack.urls.emulators.sendgrid!).port);
    await stack.sendgrid!.close();
    const addresses = [0, 1].map((i) => `down.${i}.${randomUUID().slice(0, 6)}@example.com`);
    const queued: Array<{ id: string }> = [];
    for (const to of addresses) {
      const m = dataOf(
        await send({
          to,
          template: 'ACCOUNT_UPDATE',
          data: { name: 'D', summary: 'down', message: 'while SendGrid is down' },
        }),
      ).sendEmail;
      expect(m.status).toBe('QUEUED');
      queued.push(m);
    }
    // The sender retries against the closed port before SendGrid comes back.
    await eventually(
      () => Promise.all(queued.map((m) => messageOf(m.id))),
      (ms) => ms.every((m) => m.attempts > 1 && m.status === 'QUEUED'),
    );
    await stack.sendgrid!.listen(port, '127.0.0.1');
    const done = await eventually(
      () => Promise.all(queued.map((m) => messageOf(m.id))),
      (ms) => ms.every((m) => m.status === 'DELIVERED'),
      45_000,
    );
    expect(done.map((m) => m.status)).toEqual(['DELIVERED', 'DELIVERED']);
    for (const to of addresses) expect(mailsTo(to)).toHaveLength(1);
  });
});

describe('preferences', () => {
  it('shows preferences and mail to the user and admins only, and pages the mail', async () => {
    const pat = await registerUser(stack, 'Pat Private');
    const other = await registerUser(stack, 'Oscar Other');
    await eventually(
      async () => mailsTo(pat.email),
      (m) => m.length === 1,
    );
    for (let i = 0; i < 2; i++)
      await send({ userId: pat.id, template: 'ACCOUNT_UPDATE', data: { summary: `change ${i}`, message: 'x' } });
    const mine = await emailsOf(pat);
    expect(mine.emailPreferences).toEqual({
      marketing: true,
      accountUpdates: true,
      newListingAlerts: { enabled: false, categories: [], keywords: [] },
      suppressed: null,
      suppressedAt: null,
    });
    expect(mine.emails!.nodes.map((n) => n.template)).toEqual(['ACCOUNT_UPDATE', 'ACCOUNT_UPDATE', 'WELCOME']);
    const page1 = dataOf(await stack.graph(UserEmailsDocument, { id: pat.id, first: 2 }, { token: admin.token })).user
      .emails!;
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const page2 = dataOf(
      await stack.graph(
        UserEmailsDocument,
        { id: pat.id, first: 2, after: page1.pageInfo.endCursor },
        { token: admin.token },
      ),
    ).user.emails!;
    expect(page2.nodes.map((n) => n.template)).toEqual(['WELCOME']);
    const seen = await emailsOf(pat, other);
    expect(seen.emailPreferences).toBeNull();
    expect(seen.emails).toBeNull();
    const refused = await stack.graph(
      UpdateEmailPreferencesDocument,
      { userId: pat.id, input: { marketing: false } },
      { token: other.token },
    );
    expect(errorOf(refused).extensions.code).toBe('FORBIDDEN');
  });

  it('honours an opt-out: marketing is SUPPRESSED and not sent, account updates can be switched off too', async () => {
    const olga = await registerUser(stack, 'Olga Optout');
    await setPrefs(olga, { marketing: false, accountUpdates: false });
    const before = (
      await eventually(
        async () => mailsTo(olga.email),
        (m) => m.length === 1,
      )
    ).length; // the welcome
    const promo = dataOf(await send({ userId: olga.id, template: 'PROMOTION', data: promotion })).sendEmail;
    expect(promo).toMatchObject({ status: 'SUPPRESSED', statusReason: 'the user opted out of marketing mail' });
    const account = dataOf(
      await send({ userId: olga.id, template: 'ACCOUNT_UPDATE', data: { summary: 's', message: 'm' } }),
    ).sendEmail;
    expect(account.status).toBe('SUPPRESSED');
    const receipt = dataOf(
      await send({
        userId: olga.id,
        template: 'PAYMENT_RECEIPT',
        data: { listingTitle: 't', amount: '$1', paymentId: 'p', providerReference: 'r', paidAt: 'now' },
      }),
    ).sendEmail;
    expect(['SENT', 'DELIVERED']).toContain(receipt.status);
    expect(mailsTo(olga.email)).toHaveLength(before + 1);
  });

  it('learns unsubscribes, bounces and spam reports from the event webhook: no more marketing mail', async () => {
    for (const [event, reason] of [
      ['unsubscribe', 'UNSUBSCRIBED'],
      ['bounce', 'BOUNCED'],
      ['spamreport', 'SPAM_REPORTED'],
    ] as const) {
      const user = await registerUser(stack, `Una ${event}`);
      const first = dataOf(await send({ userId: user.id, template: 'PROMOTION', data: promotion })).sendEmail;
      stack.sendgrid!.emitEvent(first.providerMessageId!, user.email, event);
      // Preferences and suppressions are read in two queries: wait until both show the webhook's (single) commit.
      const prefs = await eventually(
        async () => (await emailsOf(user)).emailPreferences!,
        (p) => p.suppressed !== null && (event === 'bounce' || p.marketing === false),
      );
      expect(prefs.suppressed).toBe(reason);
      if (event !== 'bounce') expect(prefs.marketing).toBe(false);
      expect((await messageOf(first.id)).status).toBe(
        event === 'bounce' ? 'BOUNCED' : event === 'spamreport' ? 'SPAM_REPORTED' : 'DELIVERED',
      );
      const next = dataOf(await send({ userId: user.id, template: 'PROMOTION', data: promotion })).sendEmail;
      expect(next.status).toBe('SUPPRESSED');
      expect(next.statusReason).toContain(reason);
      expect(mailsTo(user.email).filter((m) => m.subject === promotion.subject)).toHaveLength(1);
    }
  });

  it('unsubscribes through the link in the mail (one-click POST through the gateway); a forged token changes nothing', async () => {
    const uma = await registerUser(stack, 'Uma Unsub');
    const first = dataOf(await send({ userId: uma.id, template: 'PROMOTION', data: promotion })).sendEmail;
    const stored = stack.sendgrid!.messages().find((m) => m.id === first.providerMessageId)!;
    const link = /^<(.+)>$/.exec(stored.headers['List-Unsubscribe']!)![1]!;
    expect(new URL(link).origin).toBe(new URL(stack.urls.gateway).origin);
    const page = await fetch(link);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<form method="post"');
    expect((await emailsOf(uma)).emailPreferences!.marketing).toBe(true); // GET alone does nothing

    const forged = link.replace(
      /token=([^.]+)\.(.+)$/,
      (_, id: string) => `token=${id}.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`,
    );
    expect(
      (
        await fetch(forged, {
          method: 'POST',
          body: 'List-Unsubscribe=One-Click',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      ).status,
    ).toBe(400);
    expect((await emailsOf(uma)).emailPreferences!.marketing).toBe(true);

    const res = await fetch(link, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('You are unsubscribed');
    expect((await emailsOf(uma)).emailPreferences).toMatchObject({ marketing: false, suppressed: 'UNSUBSCRIBED' });
    expect(dataOf(await send({ userId: uma.id, template: 'PROMOTION', data: promotion })).sendEmail.status).toBe(
      'SUPPRESSED',
    );
    // Opting in again is their explicit wish and lifts the unsubscribe.
    expect(await setPrefs(uma, { marketing: true })).toMatchObject({ marketing: true, suppressed: null });
    expect(['SENT', 'DELIVERED']).toContain(
      dataOf(await send({ userId: uma.id, template: 'PROMOTION', data: promotion })).sendEmail.status,
    );
    // The old link acted once: it cannot undo the opt-in.
    const again = await fetch(link, {
      method: 'POST',
      body: 'List-Unsubscribe=One-Click',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect({ status: again.status, page: (await again.text()).includes('already used') }).toEqual({
      status: 200,
      page: true,
    });
    expect((await emailsOf(uma)).emailPreferences).toMatchObject({ marketing: true, suppressed: null });
  });

  it('refuses a forged event webhook (through the gateway) and changes nothing', async () => {
    const vic = await registerUser(stack, 'Vic Victim');
    const body = JSON.stringify([
      { email: vic.email, event: 'unsubscribe', timestamp: Math.floor(Date.now() / 1000), sg_event_id: randomUUID() },
    ]);
    const url = new URL('/webhooks/sendgrid', stack.urls.gateway);
    const forged = await fetch(url, {
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'x-twilio-email-event-webhook-signature':
          'MEUCIQD5Jj0S1lFOSfNHp5aNw0sUoy4VQh0K9eJ6zXcMDsJ6nwIgY6Hw1Wqq9l3QbXJ1zT1UZ9SZr8jfbBG+Xq9Cz0m9qWA=',
        'x-twilio-email-event-webhook-timestamp': String(Math.floor(Date.now() / 1000)),
      },
    });
    expect(forged.status).toBe(401);
    expect((await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).status).toBe(
      401,
    );
    expect((await emailsOf(vic)).emailPreferences).toMatchObject({ marketing: true, suppressed: null });
  });
});

describe('event webhook replays', () => {
  it('applies each SendGrid event once: a replayed post changes nothing', async () => {
    const to = `replay.${randomUUID().slice(0, 8)}@example.com`;
    const sent = dataOf(await send({ to, template: 'PROMOTION', data: promotion })).sendEmail;
    await eventually(
      () => messageOf(sent.id),
      (m) => m.status === 'DELIVERED',
    );
    const open = {
      email: to,
      event: 'open',
      timestamp: Math.floor(Date.now() / 1000),
      sg_event_id: `ev-${randomUUID()}`,
      sg_message_id: `${sent.providerMessageId}.x`,
      saypro_message_id: sent.id,
    };
    const bounce = { ...open, event: 'bounce', sg_event_id: `ev-${randomUUID()}`, reason: '550 no such user' };
    expect(await stack.email.email.applyProviderEvents([open])).toBe(1);
    expect(await stack.email.email.applyProviderEvents([open, open])).toBe(0);
    const opened = await messageOf(sent.id);
    expect(opened.status).toBe('OPENED');
    expect(await stack.email.email.applyProviderEvents([bounce, open])).toBe(1);
    const bounced = await messageOf(sent.id);
    expect(bounced).toMatchObject({ status: 'BOUNCED', statusReason: '550 no such user', openedAt: opened.openedAt });
    expect(await stack.email.email.applyProviderEvents([{ ...open, sg_event_id: `ev-${randomUUID()}` }])).toBe(1);
    expect((await messageOf(sent.id)).status).toBe('BOUNCED'); // a late open never moves a bounced mail back
  });
});

describe('campaigns', () => {
  it('to everyone: reaches users registered before the email service knew them, and skips those who opted out', async () => {
    // A user from before email existed: in listings, never announced by an event, no preferences row.
    // (Migration 0003 counts such an address as confirmed when the user registered.)
    const createdAt = new Date(Date.now() - 86_400_000);
    const legacy = {
      id: randomUUID(),
      name: 'Lena Legacy',
      email: `legacy.${randomUUID().slice(0, 8)}@example.com`,
      emailVerifiedAt: createdAt,
      createdAt,
      updatedAt: new Date(),
    };
    await stack.handle.db.insert(users).values(legacy);
    const [keen, shy] = [await registerUser(stack, 'Kim Keen'), await registerUser(stack, 'Sam Shy')];
    await setPrefs(shy, { marketing: false });
    const subject = `Everyone ${randomUUID().slice(0, 8)}`;
    const { createCampaign } = dataOf(
      await stack.graph(
        CreateCampaignDocument,
        { input: { name: subject, ...promotion, subject } },
        { token: admin.token },
      ),
    );
    const sent = dataOf(
      await stack.graph(SendCampaignDocument, { id: createCampaign.id }, { token: admin.token }),
    ).sendCampaign;
    expect(sent.audience).toBeNull();
    const got = (email: string) => mailsTo(email).filter((m) => m.subject === subject);
    await eventually(
      async () => got(legacy.email).length + got(keen.email).length,
      (n) => n === 2,
    );
    expect(got(legacy.email)).toHaveLength(1);
    expect(got(keen.email)).toHaveLength(1);
    expect(got(shy.email)).toEqual([]);
  });

  it('goes from creation to stats: queued per user, delivered, opened, clicked, unsubscribed, opted-out users skipped', async () => {
    const [a, b, c] = [
      await registerUser(stack, 'Cam One'),
      await registerUser(stack, 'Cam Two'),
      await registerUser(stack, 'Cam Three'),
    ];
    await setPrefs(c, { marketing: false });
    const created = dataOf(
      await stack.graph(
        CreateCampaignDocument,
        {
          input: {
            name: 'Spring',
            ...promotion,
            ctaUrl: 'https://saypro.example/spring',
            ctaLabel: 'Shop',
            userIds: [a.id, b.id, c.id],
          },
        },
        { token: admin.token },
      ),
    ).createCampaign;
    expect(created).toMatchObject({ status: 'DRAFT', recipients: 0, stats: { recipients: 0, sent: 0 } });
    expect(
      errorOf(await stack.graph(CreateCampaignDocument, { input: { name: 'x', ...promotion } }, { token: a.token }))
        .extensions.code,
    ).toBe('FORBIDDEN');

    const sent = dataOf(
      await stack.graph(SendCampaignDocument, { id: created.id }, { token: admin.token }),
    ).sendCampaign;
    expect(sent.status).toBe('SENDING'); // its recipients are queued by a job, a page at a time
    expect(
      errorOf(await stack.graph(SendCampaignDocument, { id: created.id }, { token: admin.token })).extensions.code,
    ).toBe('CONFLICT');

    const read = async () =>
      dataOf(await stack.graph(CampaignDocument, { id: created.id }, { token: admin.token })).campaign;
    expect((await eventually(read, (x) => x.recipients === 3)).recipients).toBe(3);
    const delivered = await eventually(read, (x) => x.stats?.delivered === 2);
    expect(delivered).toMatchObject({
      status: 'SENT',
      stats: { recipients: 3, queued: 0, sent: 2, delivered: 2, suppressed: 1, opened: 0, failed: 0 },
    });

    const toA = mailsTo(a.email).find((m) => m.subject === promotion.subject)!;
    const toB = mailsTo(b.email).find((m) => m.subject === promotion.subject)!;
    expect(toA.categories).toEqual(['promotion', `campaign:${created.id}`]);
    expect(toA.headers['List-Unsubscribe']).not.toBe(toB.headers['List-Unsubscribe']); // each recipient their own link
    expect(mailsTo(c.email).filter((m) => m.subject === promotion.subject)).toEqual([]);
    stack.sendgrid!.emitEvent(toA.id, a.email, 'open');
    stack.sendgrid!.emitEvent(toA.id, a.email, 'open');
    stack.sendgrid!.emitEvent(toA.id, a.email, 'click');
    stack.sendgrid!.emitEvent(toB.id, b.email, 'unsubscribe');
    const final = await eventually(read, (x) => x.stats?.clicked === 1 && x.stats?.unsubscribed === 1);
    expect(final.stats).toEqual({
      recipients: 3,
      queued: 0,
      sent: 2,
      delivered: 2,
      opened: 1,
      clicked: 1,
      bounced: 0,
      unsubscribed: 1,
      suppressed: 1,
      failed: 0,
    });

    const status = await rest(`/email/campaign-status?campaign_id=${created.id}`, { token: admin.token });
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      campaign_id: created.id,
      status: 'sent',
      recipients: 3,
      stats: { delivered: 2, opened: 1, clicked: 1, unsubscribed: 1 },
    });
    expect((await rest(`/email/campaign-status?campaign_id=${created.id}`, { token: a.token })).status).toBe(403);
    expect((await rest(`/email/campaign-status?campaign_id=${randomUUID()}`, { token: admin.token })).status).toBe(404);
  });
});

describe('REST facade', () => {
  it('POST /email/send sends for admins and maps errors to HTTP statuses', async () => {
    const rita = await registerUser(stack, 'Rita Rest');
    const ok = await rest('/email/send', {
      method: 'POST',
      token: admin.token,
      body: { user_id: rita.id, template: 'promotion', data: promotion },
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ message_id: expect.any(String), template: 'promotion', to: rita.email });
    expect(['sent', 'delivered']).toContain(ok.body.status);
    expect(
      (
        await rest('/email/send', {
          method: 'POST',
          token: rita.token,
          body: { user_id: rita.id, template: 'promotion', data: promotion },
        })
      ).status,
    ).toBe(403);
    const bad = await rest('/email/send', {
      method: 'POST',
      token: admin.token,
      body: { user_id: rita.id, template: 'promotion', data: {} },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'data.subject' });
    expect(
      (await rest('/email/send', { method: 'POST', token: admin.token, body: { user_id: rita.id, template: 'nope' } }))
        .status,
    ).toBe(400);
    expect(
      (
        await rest('/email/send', {
          method: 'POST',
          token: admin.token,
          body: { user_id: randomUUID(), template: 'welcome' },
        })
      ).status,
    ).toBe(404);
  });
});

describe('logs', () => {
  it('logs every SendGrid call with its operation, status, duration and message id, never the key or an address', async () => {
    const calls = stack.logs.filter(
      (l) => l.provider === 'sendgrid' && (l.msg === 'sendgrid call' || l.msg === 'sendgrid call failed'),
    );
    expect(calls.length).toBeGreaterThan(20);
    for (const call of calls)
      expect(call).toMatchObject({
        operation: 'mail.send',
        durationMs: expect.any(Number),
        attempt: expect.any(Number),
        messageId: expect.any(String),
      });
    expect(calls.some((c) => c.status === 202 && typeof c.providerMessageId === 'string')).toBe(true);
    expect(calls.some((c) => c.status === 503)).toBe(true);
    const text = JSON.stringify(stack.logs);
    expect(text).not.toContain('SG.emulator');
    const addresses = new Set(stack.sendgrid!.messages().flatMap((m) => m.to.map((t) => t.email)));
    expect(addresses.size).toBeGreaterThan(10);
    for (const address of addresses) expect(text).not.toContain(address);
    expect(text).not.toContain('Spring is here');
  });
});
