import net from 'node:net';
import { Writable } from 'node:stream';
import { createEventSigner, generateSigningKey } from '../../emulators/sendgrid/events';
import { createSendGridEmulator, type SendGridEmulator } from '../../emulators/sendgrid/server';
import { createLogger } from '../../lib/logger';
import type { MailGateway, OutgoingMail } from '../../subgraphs/email/provider/mail-gateway.port';
import { createSendGridAdapter } from '../../subgraphs/email/provider/sendgrid.adapter';

/** The SendGrid adapter with the real @sendgrid/mail and @sendgrid/eventwebhook against the emulator. */
const key = generateSigningKey();
const signer = createEventSigner(key);
let emulator: SendGridEmulator;
let base: string;
const logs: Array<Record<string, unknown>> = [];
const logger = createLogger({
  level: 'debug',
  destination: new Writable({
    write(chunk: Buffer, _e, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  }),
});
const adapterFor = (apiUrl: string, timeoutMs = 800): MailGateway =>
  createSendGridAdapter({
    apiKey: 'SG.adapter-test-key',
    apiUrl,
    timeoutMs,
    webhookPublicKey: key.publicKeyBase64Der,
    webhookToleranceSeconds: 300,
    logger,
  });
const mail = (overrides: Partial<OutgoingMail> = {}): OutgoingMail => ({
  to: 'ada@example.com',
  from: 'SayPro <no-reply@saypro.example>',
  subject: 'Hello',
  html: '<p>Hello</p>',
  text: 'Hello',
  headers: { 'List-Unsubscribe': '<https://saypro.example/u>' },
  categories: ['welcome'],
  customArgs: { saypro_message_id: '00000000-0000-4000-8000-000000000001' },
  ...overrides,
});
async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

beforeAll(async () => {
  emulator = createSendGridEmulator({ signingKey: key });
  base = await emulator.listen(0, '127.0.0.1');
});
beforeEach(() => emulator.reset());
afterAll(() => emulator.close());

describe('sendgrid adapter', () => {
  it('sends with our headers, categories and custom args, and returns the X-Message-Id', async () => {
    const { providerMessageId } = await adapterFor(base).send(mail(), 1);
    const [stored] = emulator.messages();
    expect(stored).toMatchObject({
      id: providerMessageId,
      subject: 'Hello',
      html: '<p>Hello</p>',
      text: 'Hello',
      categories: ['welcome'],
    });
    expect(stored!.headers['List-Unsubscribe']).toBe('<https://saypro.example/u>');
    expect(stored!.customArgs.saypro_message_id).toBe('00000000-0000-4000-8000-000000000001');
    expect(stored!.from).toEqual({ email: 'no-reply@saypro.example', name: 'SayPro' });
  });

  it('turns a 400 into a permanent rejection with SendGrid’s reasons', async () => {
    const adapter = adapterFor(base);
    const err = await failure(adapter.send(mail({ to: 'ada@example.c' }), 1));
    expect(adapter.isTransient(err)).toBe(false);
    expect(adapter.rejectionOf(err)).toMatch(
      /^SendGrid refused the mail \(400\): personalizations\.0\.to\.0\.email: .*valid address/,
    );
  });

  it.each([
    ['rate_limit', 429],
    ['server_error', 500],
  ] as const)('treats %s as transient and an outage, not a rejection', async (kind, status) => {
    const adapter = adapterFor(base);
    emulator.setFaults([{ kind, times: 1 } as never]);
    const err = await failure(adapter.send(mail(), 1));
    expect((err as { code: number }).code).toBe(status);
    expect(adapter.isTransient(err)).toBe(true);
    expect(adapter.isOutage(err)).toBe(true);
    expect(adapter.rejectionOf(err)).toBeNull();
  });

  it('gives up on a hung SendGrid after its timeout (transient; the hung mail is not stored)', async () => {
    const adapter = adapterFor(base, 300);
    emulator.setFaults([{ kind: 'hang', ms: 5000, times: 1 }]);
    const started = Date.now();
    const err = await failure(adapter.send(mail(), 1));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(adapter.isTransient(err)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(emulator.messages()).toEqual([]);
  });

  it('treats a SendGrid that is down (connection refused) as transient', async () => {
    const closed = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const adapter = adapterFor(`http://127.0.0.1:${closed}`);
    const err = await failure(adapter.send(mail(), 1));
    expect(adapter.isTransient(err)).toBe(true);
    expect(adapter.rejectionOf(err)).toBeNull();
  });

  it('ignores HTTP(S)_PROXY: loopback traffic goes straight to the API', async () => {
    const saved = { http: process.env.HTTP_PROXY, https: process.env.HTTPS_PROXY };
    process.env.HTTP_PROXY = 'http://127.0.0.1:9';
    process.env.HTTPS_PROXY = 'http://127.0.0.1:9';
    try {
      await adapterFor(base).send(mail(), 1);
      expect(emulator.messages()).toHaveLength(1);
    } finally {
      if (saved.http === undefined) delete process.env.HTTP_PROXY;
      else process.env.HTTP_PROXY = saved.http;
      if (saved.https === undefined) delete process.env.HTTPS_PROXY;
      else process.env.HTTPS_PROXY = saved.https;
    }
  });

  it('verifies signed event posts, refusing tampered bodies, other keys and stale timestamps', () => {
    const adapter = adapterFor(base);
    const body = JSON.stringify([{ email: 'ada@example.com', event: 'delivered', sg_event_id: 'e1', timestamp: 1 }]);
    const now = String(Math.floor(Date.now() / 1000));
    expect(adapter.verifyWebhook(Buffer.from(body), signer.sign(now, body), now)).toBe(true);
    expect(
      adapter.verifyWebhook(Buffer.from(body.replace('delivered', 'unsubscribe')), signer.sign(now, body), now),
    ).toBe(false);
    const other = createEventSigner(generateSigningKey());
    expect(adapter.verifyWebhook(Buffer.from(body), other.sign(now, body), now)).toBe(false);
    const stale = String(Math.floor(Date.now() / 1000) - 3600);
    expect(adapter.verifyWebhook(Buffer.from(body), signer.sign(stale, body), stale)).toBe(false);
    expect(adapter.verifyWebhook(Buffer.from(body), undefined, now)).toBe(false);
    expect(adapter.verifyWebhook(Buffer.from(body), 'not-base64!', now)).toBe(false);
  });

  it('logs each call with operation, status, duration and ids, never the key, the address or the body', () => {
    const calls = logs.filter((l) => l.provider === 'sendgrid');
    expect(calls.length).toBeGreaterThanOrEqual(6);
    expect(calls.find((c) => c.status === 202)).toMatchObject({
      operation: 'mail.send',
      attempt: 1,
      durationMs: expect.any(Number),
      providerMessageId: expect.any(String),
      messageId: expect.any(String),
    });
    expect(calls.find((c) => c.status === 400)).toMatchObject({ msg: 'sendgrid call failed', error: 'ResponseError' });
    const text = JSON.stringify(logs);
    for (const secret of ['SG.adapter-test-key', 'ada@example.com', 'ada@example.c"', '<p>Hello</p>'])
      expect(text).not.toContain(secret);
  });
});
