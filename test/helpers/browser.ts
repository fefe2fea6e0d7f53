import { chromium as playwright, type Browser, type Page } from 'playwright-core';
import { systemTool } from './system-tool';

/** Debian's Chromium (or CHROMIUM_PATH), driven by playwright-core, for the tests that look at a page as a person would. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromium = systemTool({
  what: 'Chromium',
  path: CHROMIUM,
  install: 'apt-get install -y chromium',
  env: 'CHROMIUM_PATH',
});
/** `it` where Chromium is there (or required); skipped with a notice elsewhere. */
export const browserIt = chromium.runs ? it : it.skip;

/** Headless Chromium; throws the install hint when it is required and missing. */
export function launchChromium(): Promise<Browser> {
  chromium.check();
  return playwright.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'],
  });
}

/**
 * A page that may reach loopback only: every other request is aborted and listed in `outside`
 * (a test asserts it stays empty, so the page is proven to work offline); `errors` gathers the
 * page's uncaught errors.
 */
export async function offlinePage(browser: Browser): Promise<{ page: Page; outside: string[]; errors: string[] }> {
  const page = await browser.newPage();
  const outside: string[] = [];
  await page.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    outside.push(route.request().url());
    return route.abort();
  });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return { page, outside, errors };
}
