import { sql } from 'drizzle-orm';
import { signViewerHeader, VIEWER_HEADER, API_KEY_VERIFY_PATH } from '../../lib/auth';
import { ApiKeysDocument, CreateApiKeyDocument, RevokeApiKeyDocument, UserDocument } from '../generated/graphql';
import { dataOf, errorOf, type CallOptions } from '../helpers/graph-client';
import { registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let admin: TestUser;
let ada: TestUser;

beforeAll(async () => {
  // No cache: a revoked key is refused on the next request (the default 30 s is the documented delay).
  stack = await startTestStack({ API_KEY_CACHE_SECONDS: '0' });
  admin = await registerUser(stack, 'Admin', ['user', 'admin']);
  ada = await registerUser(stack, 'Ada');
});
afterAll(() => stack?.stop());

const withKey = (secret: string, how: 'scheme' | 'header' = 'scheme'): CallOptions => ({
  headers: how === 'scheme' ? { authorization: `ApiKey ${secret}` } : { 'x-api-key': secret },
});

describe('API keys', () => {
  it('are created by admins, shown once, listed without secrets, and stored as a hash only', async () => {
    const created = dataOf(
      await stack.graph(
        CreateApiKeyDocument,
        { name: 'back office', scopes: ['USERS_READ', 'CRM_READ'] },
        { token: admin.token },
      ),
    ).createApiKey;
    expect(created.secret).toMatch(/^sp_test_[A-Za-z0-9_-]{43}$/);
    expect(created.apiKey).toMatchObject({
      name: 'back office',
      prefix: created.secret.slice(0, 12),
      scopes: ['USERS_READ', 'CRM_READ'],
      revokedAt: null,
    });

    const listed = dataOf(await stack.graph(ApiKeysDocument, {}, { token: admin.token })).apiKeys;
    expect(listed.find((k) => k.id === created.apiKey.id)).toEqual(created.apiKey);
    expect(JSON.stringify(listed)).not.toContain(created.secret);

    const rows = await stack.handle.db.execute(sql`select * from listings.api_keys where id = ${created.apiKey.id}`);
    const stored = JSON.stringify((rows as unknown as { rows?: unknown[] }).rows ?? rows);
    expect(stored).not.toContain(created.secret);
    expect(stored).toMatch(/"hash":"[0-9a-f]{64}"/);
  });

  it('may be managed by admins only: users, anonymous callers and keys themselves are refused', async () => {
    const { secret } = dataOf(
      await stack.graph(CreateApiKeyDocument, { name: 'crm sync', scopes: ['CRM_WRITE'] }, { token: admin.token }),
    ).createApiKey;
    for (const options of [{ token: ada.token }, {}, withKey(secret)] as CallOptions[]) {
      expect(
        errorOf(await stack.graph(CreateApiKeyDocument, { name: 'mine', scopes: ['USERS_READ'] }, options)).extensions
          .code,
      ).toBe('FORBIDDEN');
      expect(errorOf(await stack.graph(ApiKeysDocument, {}, options)).extensions.code).toBe('FORBIDDEN');
    }
    expect(
      errorOf(await stack.graph(CreateApiKeyDocument, { name: 'x', scopes: ['USERS_READ'] }, { token: admin.token }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'name' });
    expect(
      errorOf(await stack.graph(CreateApiKeyDocument, { name: 'no scopes', scopes: [] }, { token: admin.token }))
        .extensions,
    ).toMatchObject({ code: 'BAD_USER_INPUT', field: 'scopes' });
  });

  it('authenticate as Authorization: ApiKey or X-API-Key and open only what their scopes allow', async () => {
    const reader = dataOf(
      await stack.graph(CreateApiKeyDocument, { name: 'reader', scopes: ['USERS_READ'] }, { token: admin.token }),
    ).createApiKey.secret;
    const crmOnly = dataOf(
      await stack.graph(CreateApiKeyDocument, { name: 'crm', scopes: ['CRM_READ'] }, { token: admin.token }),
    ).createApiKey.secret;
    for (const how of ['scheme', 'header'] as const) {
      expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, withKey(reader, how))).user.email).toBe(ada.email);
      expect(dataOf(await stack.graph(UserDocument, { id: ada.id }, withKey(crmOnly, how))).user.email).toBeNull();
    }
  });

  it('refuses unknown, malformed and mixed credentials with 401', async () => {
    for (const headers of [
      { authorization: `ApiKey sp_test_${'A'.repeat(43)}` },
      { 'x-api-key': 'nope' },
      { authorization: 'ApiKey ' },
      { authorization: `Bearer ${ada.token}`, 'x-api-key': `sp_test_${'A'.repeat(43)}` },
    ] as Array<Record<string, string>>) {
      const res = await stack.graph(UserDocument, { id: ada.id }, { headers });
      expect(res.status).toBe(401);
      expect(errorOf(res).extensions.code).toBe('UNAUTHENTICATED');
    }
  });

  it('stop working once revoked, and cannot be revoked twice', async () => {
    const { secret, apiKey } = dataOf(
      await stack.graph(CreateApiKeyDocument, { name: 'short lived', scopes: ['USERS_READ'] }, { token: admin.token }),
    ).createApiKey;
    expect((await stack.graph(UserDocument, { id: ada.id }, withKey(secret))).status).toBe(200);
    const revoked = dataOf(
      await stack.graph(RevokeApiKeyDocument, { id: apiKey.id }, { token: admin.token }),
    ).revokeApiKey;
    expect(revoked.revokedAt).not.toBeNull();
    expect((await stack.graph(UserDocument, { id: ada.id }, withKey(secret))).status).toBe(401);
    expect(
      errorOf(await stack.graph(RevokeApiKeyDocument, { id: apiKey.id }, { token: admin.token })).extensions.code,
    ).toBe('CONFLICT');
    expect(
      errorOf(
        await stack.graph(RevokeApiKeyDocument, { id: '00000000-0000-4000-8000-000000000000' }, { token: admin.token }),
      ).extensions.code,
    ).toBe('NOT_FOUND');
  });

  it('are verified only for our own services: the listings route refuses callers without a system header', async () => {
    const url = new URL(API_KEY_VERIFY_PATH, stack.urls.subgraphs.listings!);
    const body = JSON.stringify({ key: `sp_test_${'A'.repeat(43)}` });
    expect((await fetch(url, { method: 'POST', body })).status).toBe(401);
    const request = { audience: 'listings', path: API_KEY_VERIFY_PATH, body };
    const asUser = signViewerHeader(
      { userId: ada.id, roles: ['user', 'admin'] },
      request,
      stack.config.INTERNAL_SECRET,
      30,
    );
    expect((await fetch(url, { method: 'POST', body, headers: { [VIEWER_HEADER]: asUser } })).status).toBe(403);
    // A system header works once, for this body: a captured one is no oracle for other keys.
    const asSystem = signViewerHeader({ userId: null, roles: ['admin'] }, request, stack.config.INTERNAL_SECRET, 30);
    expect((await fetch(url, { method: 'POST', body, headers: { [VIEWER_HEADER]: asSystem } })).status).toBe(404);
    expect((await fetch(url, { method: 'POST', body, headers: { [VIEWER_HEADER]: asSystem } })).status).toBe(401);
    const otherKey = JSON.stringify({ key: `sp_test_${'B'.repeat(43)}` });
    expect(
      (
        await fetch(url, {
          method: 'POST',
          body: otherKey,
          headers: {
            [VIEWER_HEADER]: signViewerHeader(
              { userId: null, roles: ['admin'] },
              request,
              stack.config.INTERNAL_SECRET,
              30,
            ),
          },
        })
      ).status,
    ).toBe(401);
    // and the gateway never exposes it
    expect((await fetch(new URL(API_KEY_VERIFY_PATH, stack.urls.gateway), { method: 'POST', body })).status).toBe(404);
  });

  it('never appear in the logs', () => {
    const logs = JSON.stringify(stack.logs);
    expect(logs).not.toMatch(/sp_test_[A-Za-z0-9_-]{43}/);
    expect(logs).toContain('api key created');
  });
});
