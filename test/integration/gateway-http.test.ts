import { eventually } from '../helpers/eventually';
import { registerUser } from '../helpers/fixtures';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({ MAX_BODY_BYTES: '4096', CORS_ORIGINS: 'https://app.saypro.example' });
});
afterAll(() => stack?.stop());

const post = (body: string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
  fetch(stack.urls.gateway, { method: 'POST', headers, body });

describe('gateway HTTP edges', () => {
  it('lets the hosted Apollo Sandbox and configured origins through CORS, and no one else', async () => {
    const preflight = (origin: string) =>
      fetch(stack.urls.gateway, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,authorization',
        },
      });
    for (const origin of ['https://studio.apollographql.com', 'https://app.saypro.example', 'http://localhost:3000']) {
      const res = await preflight(origin);
      expect(res.status).toBe(204);
      expect(res.headers.get('access-control-allow-origin')).toBe(origin);
      expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
      expect(res.headers.get('access-control-allow-headers')).toContain('x-api-key');
    }
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('blocks a simple GET query without a preflight header (CSRF prevention)', async () => {
    const res = await fetch(`${stack.urls.gateway}?query=${encodeURIComponent('{ viewer { id } }')}`);
    expect(res.status).toBe(400);
    const ok = await fetch(`${stack.urls.gateway}?query=${encodeURIComponent('{ viewer { id } }')}`, {
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(await ok.json()).toEqual({ data: { viewer: null } });
  });

  it('refuses malformed JSON and oversized bodies with clear codes, no stack', async () => {
    const malformed = await post('{"query": ');
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({
      errors: [{ message: 'Malformed JSON body', extensions: { code: 'BAD_REQUEST' } }],
    });
    const big = await post(JSON.stringify({ query: `{ viewer { id } } # ${'x'.repeat(5000)}` }));
    expect(big.status).toBe(413);
    expect(((await big.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code).toBe(
      'PAYLOAD_TOO_LARGE',
    );
    const syntax = await post(JSON.stringify({ query: '{ viewer { id ' }));
    const body = (await syntax.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]!.extensions.code).toBe('GRAPHQL_PARSE_FAILED');
    expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:\d+/);
  });

  it('answers a bad value for a custom scalar (checked by the subgraph, not the gateway) with BAD_USER_INPUT naming the input', async () => {
    const admin = await registerUser(stack, 'Scalar Admin', ['user', 'admin']);
    const res = await fetch(stack.urls.gateway, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${admin.token}` },
      body: JSON.stringify({
        query: 'mutation ($input: SendEmailInput!) { sendEmail(input: $input) { id } }',
        variables: {
          input: { to: 'someone@example.com', template: 'WELCOME', data: "'; DROP TABLE listings.users; --" },
        },
      }),
    });
    expect(await res.json()).toEqual({
      data: null,
      errors: [
        {
          message: 'Invalid value at input.data: JSONObject cannot represent non-object value',
          extensions: { code: 'BAD_USER_INPUT', field: 'input.data' },
        },
      ],
    });
  });

  it('answers unknown paths with 404 and reports liveness and readiness', async () => {
    expect((await fetch(new URL('/nope', stack.urls.gateway))).status).toBe(404);
    expect(await (await fetch(new URL('/health/live', stack.urls.gateway))).json()).toEqual({
      status: 'ok',
      engine: stack.gateway.engine.name,
    });
    const ready = await (await fetch(new URL('/health/ready', stack.urls.gateway))).json();
    expect(ready).toEqual({
      status: 'ok',
      service: 'gateway',
      checks: { listings: 'up', payments: 'up', crm: 'up', email: 'up', seo: 'up', analytics: 'up' },
      dependencies: ['listings', 'payments', 'crm', 'email', 'seo', 'analytics'].map((name) => ({
        name,
        kind: 'subgraph',
        state: 'up',
        ms: expect.any(Number),
      })),
    });
    // Every service answers in the same shape: its database, its queue, its provider's circuit.
    const payments = await (await fetch(new URL('/health/ready', stack.urls.subgraphs.payments))).json();
    expect(payments).toEqual({
      status: 'ok',
      service: 'payments',
      checks: { database: 'up', queue: 'up', stripe: 'up', paypal: 'up' },
      dependencies: [
        { name: 'database', kind: 'database', state: 'up', ms: expect.any(Number) },
        { name: 'queue', kind: 'queue', state: 'up', ms: expect.any(Number) },
        { name: 'stripe', kind: 'provider', state: 'up', detail: 'circuit closed', ms: expect.any(Number) },
        { name: 'paypal', kind: 'provider', state: 'up', detail: 'circuit closed', ms: expect.any(Number) },
      ],
    });
  });

  it('turns not-ready when its subgraph is down, and answers queries with SERVICE_UNAVAILABLE and a retry hint instead of hanging', async () => {
    await new Promise<void>((resolve) => stack.listings.server.close(() => resolve()));
    stack.listings.server.closeAllConnections();
    // Readiness answers are reused for a second (probes never fan out per request): within two it is down.
    const readReady = async () => {
      const res = await fetch(new URL('/health/ready', stack.urls.gateway));
      return { status: res.status, body: await res.json() };
    };
    const ready = await eventually(readReady, (r) => r.status === 503, 2500);
    expect(ready).toMatchObject({
      status: 503,
      body: {
        status: 'unavailable',
        service: 'gateway',
        checks: { listings: 'down', payments: 'up', crm: 'up', email: 'up' },
      },
    });
    expect(ready.body.dependencies.find((d: { name: string }) => d.name === 'listings')).toMatchObject({
      kind: 'subgraph',
      state: 'down',
      detail: expect.any(String),
    });
    const res = await post(JSON.stringify({ query: '{ viewer { id } }' }));
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    expect(body.errors).toEqual([
      {
        message: 'The listings service is unavailable; try again in a few seconds',
        extensions: { code: 'SERVICE_UNAVAILABLE', serviceName: 'listings', retryAfterSeconds: 5 },
      },
    ]);
    expect(JSON.stringify(body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1/);
  });
});
