import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { INDEXNOW_DEV_KEY } from '../../lib/config';
import { createIndexNowEmulator, type IndexNowEmulator } from '../../emulators/indexnow/server';

/**
 * The emulator on the wire, through plain fetch: the answers a client of a search engine's IndexNow
 * endpoint sees (indexnow.org/documentation). The sender's own path through it is in
 * test/integration/indexnow.test.ts.
 */

const KEY = 'a1b2c3d4-e5f6-7890-key';
let emulator: IndexNowEmulator;
let base: string;
/** A site on loopback that serves key files: `files` path → body. */
let site: http.Server;
let siteOrigin: string;
const files = new Map<string, string>();

beforeAll(async () => {
  emulator = createIndexNowEmulator({ keys: [INDEXNOW_DEV_KEY, 'configured-key-123'] });
  base = await emulator.listen();
  site = http.createServer((req, res) => {
    const body = files.get(req.url ?? '');
    if (body === undefined) return void res.writeHead(404).end('not found');
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(body);
  });
  await new Promise<void>((resolve) => site.listen(0, '127.0.0.1', resolve));
  siteOrigin = `http://127.0.0.1:${(site.address() as AddressInfo).port}`;
  files.set(`/${KEY}.txt`, `${KEY}\n`);
  files.set('/wrong.txt', 'another-key-entirely');
});
afterAll(async () => {
  await emulator?.close();
  await new Promise((resolve) => site?.close(resolve));
});
beforeEach(() => emulator.reset());

const post = (body: unknown) =>
  fetch(`${base}/indexnow`, {
    method: 'POST',
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
const host = () => new URL(siteOrigin).host;
const submission = (overrides: Record<string, unknown> = {}) => ({
  host: host(),
  key: KEY,
  keyLocation: `${siteOrigin}/${KEY}.txt`,
  urlList: [`${siteOrigin}/listings/1-bike`, `${siteOrigin}/listings/2-sofa`],
  ...overrides,
});
const faults = (list: unknown) =>
  fetch(`${base}/__emulator/faults`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(list),
  });

describe('IndexNow emulator: POST /indexnow', () => {
  it('answers 200 when the key file at a loopback keyLocation holds the key, and keeps the URLs', async () => {
    const res = await post(submission());
    expect(res.status).toBe(200);
    expect(emulator.receivedUrls()).toEqual(submission().urlList);
    expect(emulator.state().submissions[0]).toMatchObject({
      method: 'POST',
      host: host(),
      key: KEY,
      status: 200,
      keyLocation: `${siteOrigin}/${KEY}.txt`,
    });
  });

  it('answers 202 for a configured key it cannot fetch (no keyLocation, or one off loopback)', async () => {
    expect((await post({ ...submission({ key: INDEXNOW_DEV_KEY }), keyLocation: undefined })).status).toBe(202);
    const remote = {
      host: 'saypro.example',
      key: 'configured-key-123',
      keyLocation: 'https://saypro.example/configured-key-123.txt',
      urlList: ['https://saypro.example/listings/1-bike'],
    };
    expect((await post(remote)).status).toBe(202);
    expect(emulator.state().submissions.map((s) => s.status)).toEqual([202, 202]);
  });

  it.each([
    ['a key file holding another key', () => ({ keyLocation: `${siteOrigin}/wrong.txt` })],
    ['a key file that is not there', () => ({ keyLocation: `${siteOrigin}/missing.txt` })],
    ['an unknown key and no key file', () => ({ key: 'never-configured-key', keyLocation: undefined })],
  ])('answers 403 for %s and keeps nothing', async (_name, overrides) => {
    const res = await post(submission(overrides()));
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 403 });
    expect(emulator.receivedUrls()).toEqual([]);
  });

  it.each([
    ['a body that is not JSON', '{"host":'],
    ['no host', { key: KEY, urlList: ['https://a.example/x'] }],
    ['no key', { host: 'a.example', urlList: ['https://a.example/x'] }],
    ['an empty urlList', { host: 'a.example', key: KEY, urlList: [] }],
    ['a urlList that is not a list', { host: 'a.example', key: KEY, urlList: 'https://a.example/x' }],
    ['a relative URL', { host: 'a.example', key: KEY, urlList: ['/listings/1'] }],
    [
      'more than 10,000 URLs',
      { host: 'a.example', key: KEY, urlList: Array.from({ length: 10_001 }, (_, i) => `https://a.example/${i}`) },
    ],
  ])('answers 400 for %s', async (_name, body) => {
    expect((await post(body)).status).toBe(400);
    expect(emulator.receivedUrls()).toEqual([]);
  });

  it.each([
    ['a key shorter than 8 characters', () => ({ key: 'short', keyLocation: undefined })],
    ['a key with other characters', () => ({ key: 'not_allowed_key!', keyLocation: undefined })],
    [
      'a URL of another host',
      () => ({ urlList: [`${siteOrigin}/listings/1`, 'https://elsewhere.example/listings/2'] }),
    ],
    ['a key location on another host', () => ({ keyLocation: `https://elsewhere.example/${KEY}.txt` })],
  ])('answers 422 for %s', async (_name, overrides) => {
    expect((await post(submission(overrides()))).status).toBe(422);
    expect(emulator.receivedUrls()).toEqual([]);
  });

  it('takes 10,000 URLs in one POST', async () => {
    const urlList = Array.from({ length: 10_000 }, (_, i) => `${siteOrigin}/listings/${i}`);
    expect((await post(submission({ urlList }))).status).toBe(200);
    expect(emulator.receivedUrls()).toHaveLength(10_000);
  });
});

describe('IndexNow emulator: GET /indexnow?url=&key=', () => {
  it('takes one URL; 400 without url', async () => {
    const url = `${siteOrigin}/listings/7-lamp`;
    const one = await fetch(
      `${base}/indexnow?url=${encodeURIComponent(url)}&key=${KEY}&keyLocation=${encodeURIComponent(`${siteOrigin}/${KEY}.txt`)}`,
    );
    expect(one.status).toBe(200);
    expect(emulator.state().submissions).toMatchObject([{ method: 'GET', urlList: [url], host: host() }]);
    expect((await fetch(`${base}/indexnow?key=${KEY}`)).status).toBe(400);
    expect((await fetch(`${base}/indexnow?url=${encodeURIComponent(url)}&key=nope-not-known`)).status).toBe(403);
  });
});

describe('IndexNow emulator: faults, page and state', () => {
  it('answers 429 with Retry-After while a rate_limit fault lasts, then accepts again', async () => {
    expect((await faults({ kind: 'rate_limit', retryAfterSeconds: 7, times: 2 })).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const res = await post(submission());
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('7');
    }
    expect((await post(submission())).status).toBe(200);
    expect(emulator.state().requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(emulator.receivedUrls()).toHaveLength(2);
  });

  it('answers 5xx for server_error and drops the connection for drop; nothing is kept', async () => {
    await faults([{ kind: 'server_error', status: 503 }, { kind: 'drop' }]);
    expect((await post(submission())).status).toBe(503);
    await expect(post(submission())).rejects.toThrow();
    expect(emulator.receivedUrls()).toEqual([]);
    expect(emulator.state().requests.map((r) => r.status)).toEqual([503, 'dropped']);
  });

  it('refuses a bad fault with 400 naming the problem', async () => {
    const res = await faults({ kind: 'rate_limit', retryAfterSeconds: -1 });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'faults[0].retryAfterSeconds must be a whole number of seconds' });
    expect((await faults({ kind: 'explode' })).status).toBe(400);
  });

  it('lists what it received on its page and in its state; reset forgets it', async () => {
    await post(submission());
    const page = await fetch(`${base}/__emulator`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const html = await page.text();
    expect(html).toContain(`${siteOrigin}/listings/1-bike`);
    expect(html).toContain('1 submissions accepted, 2 URLs');
    const state = (await (await fetch(`${base}/__emulator/state`)).json()) as { submissions: unknown[] };
    expect(state.submissions).toHaveLength(1);
    expect((await fetch(`${base}/__emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect(emulator.state().submissions).toEqual([]);
  });
});

describe('IndexNow emulator: state file', () => {
  it('keeps the accepted submissions across a restart, and ids go on from there', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'indexnow-state-'));
    const file = path.join(dir, 'indexnow.json');
    try {
      const first = createIndexNowEmulator({ stateFile: file });
      const url = await first.listen();
      const body = { host: 'saypro.example', key: INDEXNOW_DEV_KEY, urlList: ['https://saypro.example/listings/1'] };
      const sent = await fetch(`${url}/indexnow`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(sent.status).toBe(202);
      await first.close();

      const second = createIndexNowEmulator({ stateFile: file });
      const again = await second.listen();
      try {
        expect(second.receivedUrls()).toEqual(['https://saypro.example/listings/1']);
        await fetch(`${again}/indexnow`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...body, urlList: ['https://saypro.example/listings/2'] }),
        });
        expect(second.state().submissions.map((s) => s.id)).toEqual([1, 2]);
        expect(second.state().requests).toHaveLength(1); // requests are this run's only
      } finally {
        await second.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
