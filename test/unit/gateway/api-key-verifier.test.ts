import http from 'node:http';
import { API_KEY_VERIFY_PATH, VIEWER_HEADER, verifyViewerHeader, isSystem } from '../../../lib/auth';
import { closeServer, listen } from '../../../lib/http';
import { createApiKeyVerifier } from '../../../gateway/auth/api-key-verifier';

const SECRET = 'i'.repeat(40);
const KEY = `sp_test_${'k'.repeat(43)}`;
let server: http.Server;
let url: string;
let live = true;
let calls = 0;
let status = 0;

beforeAll(async () => {
  // A stand-in for the listings route: answers for one key while `live`, checks the caller is the system.
  server = http.createServer((req, res) => {
    calls++;
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (status) return void res.writeHead(status).end();
      const caller = verifyViewerHeader(
        req.headers[VIEWER_HEADER] as string,
        { audience: 'listings', path: API_KEY_VERIFY_PATH, body },
        SECRET,
      );
      const ok = isSystem(caller) && req.url === API_KEY_VERIFY_PATH && JSON.parse(body).key === KEY && live;
      res
        .writeHead(ok ? 200 : 404, { 'content-type': 'application/json' })
        .end(JSON.stringify(ok ? { id: 'key-1', scopes: ['crm:read'] } : { error: 'unknown key' }));
    });
  });
  url = `http://127.0.0.1:${(await listen(server, 0, '127.0.0.1')).port}/graphql`;
});
afterAll(() => closeServer(server, 10));

describe('API key verifier', () => {
  it('asks listings as the system, then reuses the answer until the cache expires: the documented revocation delay', async () => {
    let now = 0;
    const verify = createApiKeyVerifier({
      listingsUrl: () => url,
      internalSecret: SECRET,
      cacheSeconds: 30,
      now: () => now,
    });
    live = true;
    calls = 0;
    expect(await verify(KEY)).toEqual({ id: 'key-1', scopes: ['crm:read'] });
    live = false; // revoked
    now = 29_000;
    expect(await verify(KEY)).toEqual({ id: 'key-1', scopes: ['crm:read'] });
    expect(calls).toBe(1);
    now = 30_001;
    expect(await verify(KEY)).toBeNull();
    expect(calls).toBe(2);
  });

  it('asks every time without a cache, and turns a listings outage into SERVICE_UNAVAILABLE, not a refusal', async () => {
    const verify = createApiKeyVerifier({ listingsUrl: () => url, internalSecret: SECRET, cacheSeconds: 0 });
    live = true;
    calls = 0;
    await verify(KEY);
    await verify(KEY);
    expect(calls).toBe(2);
    status = 500;
    await expect(verify(KEY)).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
    status = 0;
    const down = createApiKeyVerifier({
      listingsUrl: () => 'http://127.0.0.1:1/graphql',
      internalSecret: SECRET,
      cacheSeconds: 0,
    });
    await expect(down(KEY)).rejects.toMatchObject({ extensions: { code: 'SERVICE_UNAVAILABLE' } });
  });
});
