import type { Browser } from 'playwright-core';
import { browserIt, chromium, launchChromium } from '../helpers/browser';
import { SendEmailDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { registerUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * A person's view of `npm start`: a mail sent through the graph shows up on the SendGrid
 * emulator's mailbox page in a real (headless) Chromium, rendered, with its text part, headers and
 * events. Chromium comes from Debian (`apt-get install -y chromium`); playwright-core drives it.
 */

let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  if (!chromium.runs) return;
  browser = await launchChromium();
  stack = await startTestStack({ EMAIL_SEND_INTERVAL_MS: '50' });
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

browserIt(
  'shows a mail sent through the graph on the mailbox page, rendered, with its text, headers and events',
  async () => {
    const admin = await registerUser(stack, 'Mail Admin', ['user', 'admin']);
    const reader = await registerUser(stack, 'Rhea Reader');
    // A link to a page that refuses to be framed (the gateway's health page), on loopback.
    const deals = new URL('/health/live', stack.urls.gateway).toString();
    const sent = dataOf(
      await stack.graph(
        SendEmailDocument,
        {
          input: {
            userId: reader.id,
            template: 'PROMOTION',
            data: {
              subject: 'Browser check deals',
              headline: 'Deals you can see',
              body: 'Seen in Chromium.',
              ctaUrl: deals,
              ctaLabel: 'Shop now',
            },
          },
        },
        { token: admin.token },
      ),
    ).sendEmail;
    expect(['SENT', 'DELIVERED']).toContain(sent.status);
    await eventually(
      async () => stack.sendgrid!.messages().find((m) => m.id === sent.providerMessageId)?.events.length ?? 0,
      (n) => n >= 2,
    );

    const page = await browser.newPage();
    await page.goto(stack.urls.emulators.sendgrid!);
    await expect(page.title()).resolves.toContain('mailbox');
    const row = page.locator('tr', { hasText: 'Browser check deals' });
    await expect(row.count()).resolves.toBe(1);
    await expect(row.innerText()).resolves.toContain(reader.email);

    await row.locator('a', { hasText: 'Browser check deals' }).click();
    await page.waitForSelector('h1');
    await expect(page.locator('h1').innerText()).resolves.toBe('Browser check deals');
    const body = await page.locator('body').innerText();
    expect(body).toContain('List-Unsubscribe');
    expect(body).toContain('Seen in Chromium.'); // the text part
    expect(body).toMatch(/delivered/);
    // The HTML part, rendered in its sandboxed frame.
    const frame = page.frameLocator('iframe[title="HTML part"]');
    await expect(frame.locator('h1').innerText()).resolves.toBe('Deals you can see');
    await expect(frame.locator('a', { hasText: 'Shop now' }).getAttribute('href')).resolves.toBe(deals);
    // Following a link opens it in a new tab, as a mail client does; the mail stays in its frame.
    const [popup] = await Promise.all([
      page.waitForEvent('popup'),
      frame.locator('a', { hasText: 'Shop now' }).click(),
    ]);
    await popup.waitForLoadState();
    expect(popup.url()).toBe(deals);
    await expect(popup.locator('body').innerText()).resolves.toContain('"status":"ok"');
    await expect(frame.locator('h1').innerText()).resolves.toBe('Deals you can see');
    await page.close();
  },
);
