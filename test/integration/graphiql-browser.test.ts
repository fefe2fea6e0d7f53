import type { Browser } from 'playwright-core';
import { browserIt, chromium, launchChromium, offlinePage } from '../helpers/browser';
import { createListing, registerUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * The offline explorer (issue 14): GraphiQL served by the gateway from installed packages, driven
 * in headless Chromium with every request outside loopback blocked, so it is proven to need no
 * internet: load it, run a query with a header, see the result, open the schema docs.
 */
let stack: TestStack;
let browser: Browser;

beforeAll(async () => {
  if (!chromium.runs) return;
  browser = await launchChromium();
  stack = await startTestStack({ POSTING_FEES: '{"JOBS":0}' }); // the listing is ACTIVE at once, so public
});
afterAll(async () => {
  await browser?.close();
  await stack?.stop();
});

browserIt('runs a query from GraphiQL with no internet: headers editor, result, schema docs', async () => {
  const seller = await registerUser(stack, 'Gina Graphiql');
  await createListing(stack, seller, { category: 'JOBS', title: 'Offline explorer test' });
  const { page, outside, errors } = await offlinePage(browser);

  const query = '{ viewer { name } listings(first: 5, filter: { search: "Offline explorer" }) { nodes { title } } }';
  const headers = JSON.stringify({ Authorization: `Bearer ${seller.token}` });
  await page.goto(`${new URL('/graphiql', stack.urls.gateway)}?${new URLSearchParams({ query, headers })}`);
  await page.waitForSelector('.graphiql-container', { timeout: 30_000 });
  // The headers editor is open and holds the token.
  await expect(page.locator('.graphiql-editor-tool').innerText()).resolves.toContain('Authorization');
  await page.locator('.graphiql-execute-button').click();
  const result = page.locator('.result-window');
  await page.waitForFunction(
    () => document.querySelector('.result-window')?.textContent?.includes('Offline explorer test'),
    undefined,
    { timeout: 30_000 },
  );
  const text = await result.innerText();
  expect(text).toContain('"name": "Gina Graphiql"'); // the header reached the gateway: signed in
  expect(text).toContain('"title": "Offline explorer test"');

  // The schema docs, from introspection.
  await page.locator('button[aria-label="Show Documentation Explorer"]').click();
  await page.waitForSelector('.graphiql-doc-explorer', { timeout: 10_000 });
  await expect(page.locator('.graphiql-doc-explorer').innerText()).resolves.toMatch(/Query/);
  await page.screenshot({ path: `${require('node:os').tmpdir()}/saypro-graphiql.png` });

  expect(outside).toEqual([]);
  expect(errors).toEqual([]);
  await page.close();
});
