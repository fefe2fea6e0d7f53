import { ListingsPageDocument, UpdateUserDocument, ViewerDocument } from '../generated/graphql';
import { callSubgraph, viewerHeaderFor } from '../helpers/internal';
import { dataOf, errorOf } from '../helpers/graph-client';
import { registerUser, type TestUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let ada: TestUser;

beforeAll(async () => {
  stack = await startTestStack();
  ada = await registerUser(stack, 'Ada');
});
afterAll(() => stack?.stop());

describe('the signed viewer header between gateway and subgraphs', () => {
  it('refuses a direct subgraph call without the header, for queries, _entities and _service alike', async () => {
    for (const query of [
      '{ viewer { id } }',
      '{ _service { sdl } }',
      `{ _entities(representations: [{ __typename: "User", id: "${ada.id}" }]) { ... on User { name } } }`,
    ]) {
      const res = await callSubgraph(stack.urls.subgraphs.listings!, query);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
      expect(res.body.data ?? null).toBeNull();
    }
  });

  it('refuses a forged, tampered or expired header', async () => {
    const url = stack.urls.subgraphs.listings!;
    const secret = stack.config.INTERNAL_SECRET;
    const admin = { userId: ada.id, roles: ['user', 'admin'] as Array<'user' | 'admin'> };
    const ada_ = { userId: ada.id, roles: ['user'] as Array<'user' | 'admin'> };
    const forged = (body: string) => viewerHeaderFor(admin, url, body, 'not-the-internal-secret-but-32-chars-long');
    const tampered = (body: string) => {
      const [v, , sig] = viewerHeaderFor(ada_, url, body, secret).split('.');
      return `${v}.${Buffer.from(JSON.stringify({ sub: ada.id, roles: ['user', 'admin'], exp: 4102444800 })).toString('base64url')}.${sig}`;
    };
    const expired = (body: string) => viewerHeaderFor(ada_, url, body, secret, 'listings', Date.now() - 120_000);
    const otherAudience = (body: string) => viewerHeaderFor(ada_, url, body, secret, 'payments');
    for (const header of [forged, tampered, expired, otherAudience, () => 'garbage']) {
      const res = await callSubgraph(url, '{ viewer { id } }', header);
      expect(res.status).toBe(401);
      expect(res.body.errors?.[0]?.extensions.code).toBe('UNAUTHENTICATED');
    }
    const ok = await callSubgraph(url, '{ viewer { id } }', (body) => viewerHeaderFor(ada_, url, body, secret));
    expect(ok.body).toEqual({ data: { viewer: { id: ada.id } } });
  });

  it('answers health checks without the header', async () => {
    const base = new URL(stack.urls.subgraphs.listings!);
    for (const path of ['/health/live', '/health/ready']) {
      const res = await fetch(new URL(path, base));
      expect(res.status).toBe(200);
    }
    const ready = (await (await fetch(new URL('/health/ready', stack.urls.gateway))).json()) as {
      checks: Record<string, string>;
    };
    expect(ready.checks).toEqual({
      listings: 'up',
      payments: 'up',
      crm: 'up',
      email: 'up',
      seo: 'up',
      analytics: 'up',
    });
  });

  it('ignores a viewer header a client sends to the gateway: identity comes from the JWT only', async () => {
    const adminHeader = viewerHeaderFor(
      { userId: ada.id, roles: ['user', 'admin'] },
      stack.urls.subgraphs.listings!,
      '{}',
      stack.config.INTERNAL_SECRET,
    );
    const asAnon = await stack.graph(ViewerDocument, {}, { headers: { 'x-saypro-viewer': adminHeader } });
    expect(dataOf(asAnon).viewer).toBeNull();
    const bob = await registerUser(stack, 'Bob');
    const attempt = await stack.graph(
      UpdateUserDocument,
      { id: ada.id, input: { name: 'Owned' } },
      { token: bob.token, headers: { 'x-saypro-viewer': adminHeader } },
    );
    expect(errorOf(attempt).extensions.code).toBe('FORBIDDEN');
  });

  it('echoes a well-formed request id (or makes one) and logs it at the gateway; events.test shows it reaching the subgraph', async () => {
    const result = await stack.graph(ListingsPageDocument, {}, { headers: { 'x-request-id': 'trace-me-123' } });
    expect(result.headers.get('x-request-id')).toBe('trace-me-123');
    const generated = await stack.graph(
      ListingsPageDocument,
      {},
      { headers: { 'x-request-id': 'bad id with spaces!' } },
    );
    expect(generated.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const lines = stack.logs.filter((l) => l.reqId === 'trace-me-123');
    expect(lines.some((l) => l.service === 'gateway' && l.msg === 'graphql request')).toBe(true);
  });
});
