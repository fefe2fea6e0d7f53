import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Viewer } from '../../../../lib/auth';
import type { DatabaseHandle } from '../../../../lib/db';
import type { EntityClient } from '../../../../lib/entity-client';
import { ServiceUnavailableError } from '../../../../lib/errors';
import { campaigns, messages, suppressions } from '../../../../subgraphs/email/db/schema';
import { CAMPAIGN_QUEUE, EmailService, type Recipient } from '../../../../subgraphs/email/domain/email.service';
import { createRenderer, type TemplateData, type TemplateName } from '../../../../subgraphs/email/domain/templates';
import type { MailGateway, OutgoingMail } from '../../../../subgraphs/email/provider/mail-gateway.port';
import { FakeOutage, fastPolicy, silentLogger } from '../../../helpers/fakes';
import { createTestDatabase } from '../../../helpers/test-db';

/** SendGrid in memory: keeps what it was handed; `down` makes every send an outage. */
class FakeMail implements MailGateway {
  sent: OutgoingMail[] = [];
  down = false;
  async send(mail: OutgoingMail) {
    if (this.down) throw new FakeOutage('503');
    this.sent.push(mail);
    return { providerMessageId: `sg-${this.sent.length}` };
  }
  isTransient = (err: unknown) => err instanceof FakeOutage;
  isOutage = (err: unknown) => err instanceof FakeOutage;
  rejectionOf = () => null;
  verifyWebhook = () => true;
}

type Person = { id: string; name: string; email: string };
const people = new Map<string, Person>();
/** listings' `_entities` for User, from memory. */
let listingsDown = false;
const listings = (async (_type: string, ids: readonly string[]) => {
  if (listingsDown) throw new ServiceUnavailableError('listings');
  return ids.map((id) => people.get(id) ?? null);
}) as unknown as EntityClient;
/** pg-boss for the service's own jobs: what it queued, in order, to be run by the test. */
let jobs: Array<{ queue: string; data: { campaignId: string } }>;

let handle: DatabaseHandle;
let mail: FakeMail;
let email: EmailService;
const admin: Viewer = { userId: randomUUID(), roles: ['user', 'admin'] };

const person = (name: string): Person & Recipient => {
  const p = {
    id: randomUUID(),
    name,
    email: `${name.toLowerCase()}.${randomUUID().slice(0, 6)}@example.com`,
    emailVerified: true,
  };
  people.set(p.id, p);
  return { ...p, userId: p.id, verified: true };
};
const DATA: Record<TemplateName, TemplateData> = {
  WELCOME: { name: 'N', appUrl: 'http://127.0.0.1:4000' },
  CONFIRM_EMAIL: { name: 'N', confirmUrl: 'http://127.0.0.1:4000/email/confirm?token=t' },
  LISTING_PUBLISHED: {
    name: 'N',
    listingTitle: 'Bike',
    listingUrl: 'http://127.0.0.1:4000/listings/1',
    expiresAt: '2030-01-01',
  },
  PAYMENT_RECEIPT: {
    name: 'N',
    listingTitle: 'Bike',
    amount: '$10.00',
    paymentId: 'p',
    providerReference: 'pi',
    paidAt: '2030-01-01',
  },
  NEW_LISTING_ALERT: {
    name: 'N',
    listingTitle: 'Bike',
    listingPrice: '$10.00',
    listingCategory: 'VEHICLES',
    listingLocation: 'Cape Town',
    listingDescription: 'd',
    listingUrl: 'http://127.0.0.1:4000/listings/1',
  },
  PROMOTION: { subject: 'Deals', headline: 'Deals', body: 'Half price.' },
  ACCOUNT_UPDATE: { name: 'N', summary: 's', message: 'm' },
};
/** Queues `template` for `to` and returns the stored row's status and reason. */
const queue = async (to: Recipient, template: TemplateName) => {
  const { row } = await email.enqueue(handle.db, {
    dedupeKey: `t:${randomUUID()}`,
    recipient: to,
    template,
    data: DATA[template],
  });
  return { status: row.status, reason: row.lastError, id: row.id };
};
const suppress = (address: string, reason: 'BOUNCED' | 'UNSUBSCRIBED' | 'SPAM_REPORTED') =>
  handle.db.insert(suppressions).values({ email: address.toLowerCase(), reason, createdAt: new Date() });

beforeAll(async () => {
  handle = await createTestDatabase();
});
afterAll(() => handle?.close());
beforeEach(() => {
  mail = new FakeMail();
  jobs = [];
  email = new EmailService({
    db: handle.db,
    gateway: mail,
    policy: fastPolicy('sendgrid', { retries: 0 }),
    renderer: createRenderer(),
    listings,
    users: async () => ({ ids: [], endCursor: null, hasNextPage: false, totalCount: 0 }),
    logger: silentLogger,
    from: 'SayPro <no-reply@saypro.example>',
    publicUrl: () => 'http://127.0.0.1:4000',
    unsubscribeSecret: 'x'.repeat(32),
    marketingDefault: true,
    retryBaseDelayMs: 1,
    retryMaxDelayMs: 2,
    jobs: { enqueueJob: async (_tx, queue, data) => void jobs.push({ queue, data: data as { campaignId: string } }) },
  });
});

describe('EmailService consent rules', () => {
  it('always sends transactional mail, even to an opted-out, suppressed address', async () => {
    const ada = person('Ada');
    await email.updatePreferences(admin, ada.id, { marketing: false, accountUpdates: false });
    await suppress(ada.email, 'BOUNCED');
    expect(await queue(ada, 'WELCOME')).toMatchObject({ status: 'QUEUED', reason: null });
    expect(await queue(ada, 'PAYMENT_RECEIPT')).toMatchObject({ status: 'QUEUED' });
  });

  it('sends account mail unless the user switched it off (suppression does not stop it)', async () => {
    const bo = person('Bo');
    await suppress(bo.email, 'UNSUBSCRIBED');
    expect(await queue(bo, 'ACCOUNT_UPDATE')).toMatchObject({ status: 'QUEUED' });
    await email.updatePreferences(admin, bo.id, { accountUpdates: false });
    expect(await queue(bo, 'ACCOUNT_UPDATE')).toEqual(
      expect.objectContaining({ status: 'SUPPRESSED', reason: 'the user turned account updates off' }),
    );
  });

  it('sends marketing mail only with consent (the default for users without preferences) and never to a suppressed address', async () => {
    const cy = person('Cy');
    expect(await queue(cy, 'PROMOTION')).toMatchObject({ status: 'QUEUED' });
    await email.updatePreferences(admin, cy.id, { marketing: false });
    expect(await queue(cy, 'PROMOTION')).toMatchObject({
      status: 'SUPPRESSED',
      reason: 'the user opted out of marketing mail',
    });
    const di = person('Di');
    await suppress(di.email.toUpperCase(), 'SPAM_REPORTED');
    expect(await queue(di, 'PROMOTION')).toMatchObject({
      status: 'SUPPRESSED',
      reason: 'the address is suppressed (SPAM_REPORTED)',
    });
    expect(await queue({ userId: null, email: `guest.${randomUUID()}@example.com` }, 'PROMOTION')).toMatchObject({
      status: 'QUEUED',
    });
  });

  it('sends new-listing alerts only to users who turned them on', async () => {
    const ed = person('Ed');
    expect(await queue(ed, 'NEW_LISTING_ALERT')).toMatchObject({
      status: 'SUPPRESSED',
      reason: 'the user turned new-listing alerts off',
    });
    await email.updatePreferences(admin, ed.id, { newListingAlerts: { enabled: true } });
    expect(await queue(ed, 'NEW_LISTING_ALERT')).toMatchObject({ status: 'QUEUED' });
  });

  it('checks consent again when it sends: an opt-out while the mail waited suppresses it, SendGrid never sees it', async () => {
    const fa = person('Fa');
    const { id } = await queue(fa, 'PROMOTION');
    await email.updatePreferences(admin, fa.id, { marketing: false });
    await email.flush();
    expect(await email.message(id)).toMatchObject({
      status: 'SUPPRESSED',
      lastError: 'the user opted out of marketing mail',
    });
    expect(mail.sent.filter((m) => m.to === fa.email)).toEqual([]);
  });

  it('lifts an unsubscribe when the user opts in again, but never a bounce', async () => {
    const gu = person('Gu');
    await suppress(gu.email, 'UNSUBSCRIBED');
    await email.updatePreferences(admin, gu.id, { marketing: true });
    expect(await queue(gu, 'PROMOTION')).toMatchObject({ status: 'QUEUED' });
    const ha = person('Ha');
    await suppress(ha.email, 'BOUNCED');
    await email.updatePreferences(admin, ha.id, { marketing: true });
    expect(await queue(ha, 'PROMOTION')).toMatchObject({
      status: 'SUPPRESSED',
      reason: 'the address is suppressed (BOUNCED)',
    });
  });

  it("unsubscribes through a mail's signed link: marketing and alerts off, the address suppressed; a forged token does nothing", async () => {
    const io = person('Io');
    await email.updatePreferences(admin, io.id, { newListingAlerts: { enabled: true } });
    const { id } = await queue(io, 'PROMOTION');
    const token = new URL(email.unsubscribeUrl(id)).searchParams.get('token')!;
    expect(await email.unsubscribe(`${token.slice(0, -2)}xx`)).toBe('invalid');
    expect(await email.unsubscribe(token)).toBe('unsubscribed');
    expect((await email.preferencesOf(handle.db, [io.id])).get(io.id)).toMatchObject({
      marketing: false,
      alertsEnabled: false,
    });
    expect(await queue(io, 'PROMOTION')).toMatchObject({ status: 'SUPPRESSED' });
    expect(await queue(io, 'WELCOME')).toMatchObject({ status: 'QUEUED' });
  });
});

describe('EmailService confirmation mail per recipient', () => {
  it('queues at most accountMailPerRecipientPerHour confirmation mails for one address an hour, then suppresses them; other mail and other addresses are not counted', async () => {
    const gi = person('Gi');
    const other = { ...gi, email: `other.${randomUUID()}@example.com` };
    const statuses: string[] = [];
    for (const template of [
      'WELCOME',
      'CONFIRM_EMAIL',
      'WELCOME',
      'CONFIRM_EMAIL',
      'WELCOME',
      'CONFIRM_EMAIL',
    ] as const)
      statuses.push((await queue({ ...gi, email: gi.email.toUpperCase() }, template)).status);
    expect(statuses).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', 'SUPPRESSED']);
    expect(await queue(gi, 'WELCOME')).toEqual(
      expect.objectContaining({
        status: 'SUPPRESSED',
        reason: 'this address was sent 5 confirmation mails in the last hour; no more until the hour has passed',
      }),
    );
    expect(await queue(gi, 'PAYMENT_RECEIPT')).toMatchObject({ status: 'QUEUED' });
    expect(await queue(other, 'WELCOME')).toMatchObject({ status: 'QUEUED' });
    // An hour later the address may be mailed again (suppressed ones never counted).
    await handle.db
      .update(messages)
      .set({ createdAt: new Date(Date.now() - 3_600_001) })
      .where(eq(messages.toEmail, gi.email.toUpperCase()));
    expect(await queue(gi, 'CONFIRM_EMAIL')).toMatchObject({ status: 'QUEUED' });
  });
});

describe('EmailService outbox', () => {
  it('queues one mail per dedupe key', async () => {
    const jo = person('Jo');
    const spec = {
      dedupeKey: `event:${randomUUID()}:${jo.id}:WELCOME`,
      recipient: jo,
      template: 'WELCOME' as const,
      data: DATA.WELCOME,
    };
    const first = await email.enqueue(handle.db, spec);
    const again = await email.enqueue(handle.db, spec);
    expect(first.created).toBe(true);
    expect(again).toEqual({ row: first.row, created: false });
  });

  it('keeps mail QUEUED through an outage and sends it once when SendGrid is back', async () => {
    const ka = person('Ka');
    mail.down = true;
    const sent = await email.sendEmail(admin, {
      userId: ka.id,
      template: 'ACCOUNT_UPDATE',
      data: { summary: 's', message: 'm' },
      idempotencyKey: randomUUID(),
    });
    expect(sent).toMatchObject({ status: 'QUEUED', attempts: 1, lastError: 'SendGrid unavailable; retrying' });
    mail.down = false;
    await handle.db.update(messages).set({ nextAttemptAt: new Date() }).where(eq(messages.id, sent.id)); // its backoff, run out
    await email.flush();
    await email.flush();
    expect(await email.message(sent.id)).toMatchObject({
      status: 'SENT',
      attempts: 2,
      providerMessageId: expect.stringMatching(/^sg-\d+$/),
    });
    expect(mail.sent.filter((m) => m.to === ka.email)).toHaveLength(1);
  });
});

describe('EmailService campaigns: a durable job, a page at a time', () => {
  it('queues its recipients a page per job, survives a failing page and a redelivered job, and mails nobody twice', async () => {
    const audience = Array.from({ length: 250 }, (_, i) => person(`Reader${i}`).id);
    const created = await email.createCampaign(admin, {
      name: 'Durable',
      subject: 'Deals',
      headline: 'Deals',
      body: 'Half price.',
      userIds: audience,
    });
    const started = await email.sendCampaign(admin, created.id);
    expect(started).toMatchObject({ status: 'SENDING', recipients: 0 });
    expect(jobs).toEqual([{ queue: CAMPAIGN_QUEUE, data: { campaignId: created.id } }]); // committed with the status change
    expect(await email.sendCampaign(admin, created.id).catch((e: { code?: string }) => e.code)).toBe('CONFLICT');

    const run = async () => email.queueCampaignPage(jobs.shift()!.data.campaignId);
    expect(await run()).toBe(true); // page 1 (100), and the job for page 2
    await email.flush(); // all of page 1 sent…
    expect(await email.campaignStatus(started)).toBe('SENDING'); // …yet not SENT: pages remain

    listingsDown = true;
    const page2 = jobs[0]!;
    await expect(run()).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' }); // pg-boss retries this job later
    listingsDown = false;
    expect(await email.queueCampaignPage(page2.data.campaignId)).toBe(true); // the retry: page 2
    // The process died after page 2 committed, before its job was completed: the job comes back.
    const page3 = jobs.shift()!;
    expect(await email.queueCampaignPage(page2.data.campaignId)).toBe(false); // the redelivery does page 3
    expect(await email.queueCampaignPage(page3.data.campaignId)).toBe(false); // page 3's own job finds it done
    expect(jobs).toEqual([]);

    const rows = await handle.db
      .select({ userId: messages.userId })
      .from(messages)
      .where(eq(messages.campaignId, created.id));
    expect(rows).toHaveLength(250);
    expect(new Set(rows.map((r) => r.userId))).toEqual(new Set(audience));
    const [stored] = await handle.db.select().from(campaigns).where(eq(campaigns.id, created.id));
    expect(stored).toMatchObject({ recipients: 250, cursor: '250', queuedAt: expect.any(Date) });
    while ((await email.flush()) > 0);
    expect(await email.campaignStatus(started)).toBe('SENT');
    const sent = mail.sent.filter((m) => m.customArgs.saypro_campaign_id === created.id);
    expect(sent).toHaveLength(250);
    expect(new Set(sent.map((m) => m.to)).size).toBe(250);
  });
});
