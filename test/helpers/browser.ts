import { chromium as playwright, type Browser } from 'playwright-core';
import { systemTool } from './system-tool';

/** Debian's Chromium (or CHROMIUM_PATH), driven by playwright-core, for the tests that look at a page as a person would. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromium = systemTool({ what: 'Chromium', path: CHROMIUM, install: 'apt-get install -y chromium', env: 'CHROMIUM_PATH' });
/** `it` where Chromium is there (or required); skipped with a notice elsewhere. */
export const browserIt = chromium.runs ? it : it.skip;

/** Headless Chromium; throws the install hint when it is required and missing. */
export function launchChromium(): Promise<Browser> {
  chromium.check();
  return playwright.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-proxy-server'] });
}
