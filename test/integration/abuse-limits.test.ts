import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { projectRoot } from '../../lib/data-dir';
import { sha256Hex } from '../../lib/persisted-operations';
import { limitsFromConfig } from '../../gateway/limits/limits-config';
import { startBareGateway } from '../helpers/bare-gateway';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
beforeAll(async () => {
  stack = await startTestStack({
    GRAPHQL_MAX_DEPTH: '6',
    GRAPHQL_MAX_COST: '5000',
    GRAPHQL_MAX_ALIASES: '5',
    GRAPHQL_MAX_TOKENS: '400',
    GRAPHQL_MAX_BATCH: '3',
    MAX_BODY_BYTES: '8192',
    RATE_LIMIT_PER_IP: '5',
    RATE_LIMIT_PER_VIEWER: '8',
    RATE_LIMIT_WEBHOOKS_PER_IP: '4',
    RATE_LIMIT_HEALTH_PER_IP: '30',
    GRAPHQL_MAX_DIRECTIVES: '10',
    // Each test speaks from its own address, as a client behind our one proxy.
    TRUST_PROXY_HOPS: '1',
  });
});
afterAll(() => stack?.stop());

type Body = { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
let ips = 0;
/** A client address no other request in this file used, so each test has its own rate bucket. */
const freshIp = () => `10.${Math.floor(++ips / 250)}.${ips % 250}.1`;
/** `levels` fragments, each spreading the next twice: 2^levels uses in a few bytes per level. */
function fragmentChain(levels: number): string {
  const defs = Array.from({ length: levels }, (_, i) => `fragment F${i} on User{...F${i + 1} ...F${i + 1}}`);
  return `{viewer{...F0}} ${defs.join(' ')} fragment F${levels} on User{id}`;
}

async function post(body: unknown, headers: Record<string, string> = {}, url = stack.urls.gateway) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': freshIp(), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body | Body[] };
}
const codeOf = (body: Body | Body[]) => (body as Body).errors?.[0]?.extensions.code;
const noInternals = (body: unknown) =>
  expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:\d+|\.js:\d+|node_modules|SELECT /i);

describe('abuse limits at the gateway', () => {
  it('runs the legitimate operations: a page of 50 listings with sellers and their crm contact', async () => {
    const res = await post({
      query:
        'query { listings(first: 50) { nodes { id title seller { id name crmContact { syncStatus properties { name value } } } } } }',
    });
    expect(res.status).toBe(200);
    expect((res.body as Body).errors).toBeUndefined();
  });

  it('refuses a query nested past the depth limit with QUERY_TOO_DEEP, before any subgraph is asked', async () => {
    const deep =
      '{ listings(first: 1) { nodes { seller { listings(first: 1) { nodes { seller { listings(first: 1) { nodes { id } } } } } } } } }';
    const res = await post({ query: deep });
    expect(res.status).toBe(400);
    // The walk stops at the first level past the limit, so the depth it names is a lower bound.
    expect((res.body as Body).errors).toEqual([
      { message: 'Query depth exceeds the limit of 6', extensions: { code: 'QUERY_TOO_DEEP', limit: 6 } },
    ]);
    const seven = '{ listings(first: 1) { nodes { seller { listings(first: 1) { nodes { seller { id } } } } } } }';
    expect((await post({ query: seven })).body).toMatchObject({
      errors: [{ message: 'Query depth exceeds the limit of 6' }],
    });
  });

  it('refuses a query whose pages multiply past the cost limit with QUERY_TOO_COSTLY, also when the size is a variable', async () => {
    const costly =
      'query($n: Int) { listings(first: $n) { nodes { seller { listings(first: $n) { nodes { id title } } } } } }';
    const res = await post({ query: costly, variables: { n: 100 } });
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('QUERY_TOO_COSTLY');
    expect((res.body as Body).errors![0]).toEqual({
      message: 'Query cost exceeds the limit of 5000; ask for smaller pages (first) or fewer nested lists',
      extensions: { code: 'QUERY_TOO_COSTLY', limit: 5000 },
    });
    const small = await post({ query: costly, variables: { n: 5 } });
    expect((small.body as Body).errors).toBeUndefined();
  });

  it('refuses an alias bomb with TOO_MANY_ALIASES, counting aliases inside fragments at every spread', async () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `v${i}: viewer { id }`).join(' ');
    expect(codeOf((await post({ query: `{ ${aliases} }` })).body)).toBe('TOO_MANY_ALIASES');
    const viaFragment = await post({
      query: 'query { a: viewer { ...F } b: viewer { ...F } } fragment F on User { x: id y: name }',
    });
    expect((viaFragment.body as Body).errors![0]).toEqual({
      message: 'Aliases exceed the limit of 5',
      extensions: { code: 'TOO_MANY_ALIASES', limit: 5 },
    });
  });

  it('refuses a fragment chain that doubles at every level (2^22 uses in 1 KB) on cost, with the gateway free meanwhile', async () => {
    const levels = 22;
    const query = fragmentChain(levels);
    expect(query.length).toBeLessThan(1024);
    const [res, live] = await Promise.all([
      post({ query }),
      fetch(new URL('/health/live', stack.urls.gateway), { headers: { 'x-forwarded-for': freshIp() } }),
    ]);
    expect(live.status).toBe(200);
    expect(res.status).toBe(400);
    expect((res.body as Body).errors).toEqual([
      {
        message: 'Query cost exceeds the limit of 5000; ask for smaller pages (first) or fewer nested lists',
        extensions: { code: 'QUERY_TOO_COSTLY', limit: 5000 },
      },
    ]);
  });

  it('prices pages by the variables’ defaults when the client sends none, and adds up a batch', async () => {
    const nested =
      'query Q($n: Int = 100) { listings(first: $n) { nodes { seller { listings(first: $n) { nodes { id } } } } } }';
    expect(codeOf((await post({ query: nested })).body)).toBe('QUERY_TOO_COSTLY');
    expect((await post({ query: nested, variables: { n: 3 } })).status).toBe(200);
    // each alone is under the limit (1 + 40 * (1 + 40 * 2) = 3241), two together are not
    const page = { query: 'query P($n: Int = 40) { listings(first: $n) { nodes { id title seller { id } } } }' };
    const cost = 1 + 40 * (1 + 1 + 1 + 1 + 1);
    expect(cost * 2).toBeLessThan(5000);
    const three = await post([page, page, page]);
    expect(three.status).toBe(200);
    const heavy = {
      query:
        'query H($n: Int = 40) { listings(first: $n) { nodes { seller { listings(first: $n) { nodes { id } } } } } }',
    };
    const batch = await post([heavy, heavy]);
    expect(batch.status).toBe(400);
    expect((batch.body as Body).errors).toEqual([
      {
        message: 'The batch’s cost exceeds the limit of 5000; ask for smaller pages (first) or fewer nested lists',
        extensions: { code: 'QUERY_TOO_COSTLY', limit: 5000 },
      },
    ]);
  });

  it('refuses too many directives with TOO_MANY_DIRECTIVES, counting them at every spread', async () => {
    const res = await post({
      query:
        'query { viewer { ...D ...D ...D } } fragment D on User { id @include(if: true) name @skip(if: false) x: email @include(if: true) @skip(if: false) }',
    });
    expect(res.status).toBe(400);
    expect((res.body as Body).errors).toEqual([
      { message: 'Directives exceed the limit of 10', extensions: { code: 'TOO_MANY_DIRECTIVES', limit: 10 } },
    ]);
  });

  it('answers an unknown operationName, or several operations without one, with 400 and its own code, logging no error', async () => {
    const two = 'query A { viewer { id } } query B { viewer { name } }';
    const unknown = await post({ query: two, operationName: 'C' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({
      errors: [{ message: 'The document has no operation named "C"', extensions: { code: 'OPERATION_NOT_FOUND' } }],
    });
    const ambiguous = await post({ query: two });
    expect(ambiguous.status).toBe(400);
    expect(ambiguous.body).toEqual({
      errors: [
        {
          message: 'The document has 2 operations: say which to run with operationName',
          extensions: { code: 'OPERATION_NAME_REQUIRED' },
        },
      ],
    });
    expect((await post({ query: two, operationName: 'B' })).body).toEqual({ data: { viewer: null } });
    expect(stack.logs.filter((l) => l.level === 'error' || l.level === 'fatal')).toEqual([]);
  });

  it('rate-limits webhooks on their own budget, with a body limit per provider', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(new URL('/webhooks/stripe', stack.urls.gateway), {
        method: 'POST',
        headers: { 'x-forwarded-for': ip, 'content-type': 'application/json' },
        body: '{}',
      });
      statuses.push(res.status);
      await res.arrayBuffer();
    }
    // unsigned deliveries are refused by payments (400); the fifth never gets there
    expect(statuses).toEqual([400, 400, 400, 400, 429]);
    const big = await fetch(new URL('/webhooks/stripe', stack.urls.gateway), {
      method: 'POST',
      headers: { 'x-forwarded-for': freshIp(), 'content-type': 'application/json' },
      body: JSON.stringify({ pad: 'x'.repeat(600 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(await big.json()).toEqual({
      errors: [{ message: `Request body larger than ${512 * 1024} bytes`, extensions: { code: 'PAYLOAD_TOO_LARGE' } }],
    });
  });

  it('rate-limits the unsubscribe link on the anonymous budget and health probes on their own', async () => {
    const ip = freshIp();
    const unsubscribe: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(new URL('/email/unsubscribe?token=nope', stack.urls.gateway), {
        headers: { 'x-forwarded-for': ip },
      });
      unsubscribe.push(res.status);
      await res.arrayBuffer();
    }
    expect(unsubscribe.slice(0, 5).every((s) => s !== 429)).toBe(true);
    expect(unsubscribe[5]).toBe(429);
    const healthIp = freshIp();
    const health: number[] = [];
    for (let i = 0; i < 31; i++) {
      const res = await fetch(new URL(i % 2 ? '/health/ready' : '/health/live', stack.urls.gateway), {
        headers: { 'x-forwarded-for': healthIp },
      });
      health.push(res.status);
      await res.arrayBuffer();
    }
    expect(health.slice(0, 30).every((s) => s === 200)).toBe(true);
    expect(health[30]).toBe(429);
  });

  it('stops parsing a document past the token limit with TOO_MANY_TOKENS', async () => {
    const res = await post({ query: `{ viewer { ${'id '.repeat(500)} } }` });
    expect(res.status).toBe(400);
    expect((res.body as Body).errors).toEqual([
      { message: 'The document has more than 400 tokens', extensions: { code: 'TOO_MANY_TOKENS', limit: 400 } },
    ]);
  });

  it('refuses an oversized body with 413 PAYLOAD_TOO_LARGE, whether its length is declared or streamed', async () => {
    const res = await post({ query: `{ viewer { id } } # ${'x'.repeat(9000)}` });
    expect(res.status).toBe(413);
    expect(codeOf(res.body)).toBe('PAYLOAD_TOO_LARGE');
  });

  it('runs a small batch and refuses one over the limit with BATCH_TOO_LARGE; each operation counts against the rate', async () => {
    const one = { query: '{ viewer { id } }' };
    const ip = freshIp();
    const ok = await post([one, one, one], { 'x-forwarded-for': ip });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual([{ data: { viewer: null } }, { data: { viewer: null } }, { data: { viewer: null } }]);
    const big = await post([one, one, one, one], { 'x-forwarded-for': freshIp() });
    expect(big.status).toBe(400);
    expect(big.body).toEqual({
      errors: [
        { message: 'A batch may hold at most 3 operations; this one has 4', extensions: { code: 'BATCH_TOO_LARGE' } },
      ],
    });
    // 3 of this address's 5 are gone: a batch of 3 more is refused
    expect((await post([one, one, one], { 'x-forwarded-for': ip })).status).toBe(429);
  });

  it('rate-limits anonymous callers per address and signed-in viewers per viewer, with 429 and Retry-After', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((limited.body as Body).errors![0]!.extensions).toEqual({
      code: 'RATE_LIMITED',
      retryAfterSeconds: expect.any(Number),
    });
    // another address is not affected
    expect((await post({ query: '{ viewer { id } }' })).status).toBe(200);

    // a viewer has their own bucket, whatever address they come from
    const token = await stack.token(randomUUID());
    const viewerStatuses: number[] = [];
    for (let i = 0; i < 9; i++)
      viewerStatuses.push((await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${token}` })).status);
    expect(viewerStatuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expect(
      (await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${await stack.token(randomUUID())}` }))
        .status,
    ).toBe(200);
  });

  it('counts failed sign-ins against the address, so guessing tokens is limited too', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip, authorization: 'Bearer a.b.c' })).status,
      );
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('rate-limits the REST facade through the same context, with Retry-After', async () => {
    const ip = freshIp();
    let last: Response | undefined;
    for (let i = 0; i < 6; i++)
      last = await fetch(new URL('/crm/user-data?user_id=x', stack.urls.gateway), {
        headers: { 'x-forwarded-for': ip },
      });
    expect(last!.status).toBe(429);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await last!.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^Too many requests/) },
    });
  });

  it('supports automatic persisted queries: a hash alone is unknown until the text was sent once', async () => {
    const query = `{ viewer { id } } # apq ${randomUUID()}`;
    const persistedQuery = { version: 1, sha256Hash: sha256Hex(query) };
    expect(codeOf((await post({ extensions: { persistedQuery } })).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post({ query, extensions: { persistedQuery } })).body).toEqual({ data: { viewer: null } });
    expect((await post({ extensions: { persistedQuery } })).body).toEqual({ data: { viewer: null } });
  });

  it('keeps every refusal free of internals', async () => {
    for (const body of [
      { query: '{ '.repeat(300) },
      { query: '{ viewer { id } }', variables: 'nope' },
      [],
      [{}],
      { query: 42 },
    ]) {
      const res = await post(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      noInternals(res.body);
    }
  });
});

/** A production gateway of its own over the stack's subgraphs (introspection, Sandbox and hints off). */
const startProductionGateway = (config: Partial<typeof stack.config> = {}) =>
  startBareGateway({
    subgraphUrls: stack.urls.subgraphs,
    jwt: { secret: stack.config.JWT_SECRET },
    internalSecret: stack.config.INTERNAL_SECRET,
    development: false,
    limits: limitsFromConfig({ ...stack.config, TRUST_PROXY_HOPS: 1, ...config }),
  });

describe('a gateway in production mode with GRAPHQL_PERSISTED_ONLY', () => {
  let bare: Awaited<ReturnType<typeof startBareGateway>>;
  let url: string;
  const manifest = JSON.parse(
    fs.readFileSync(path.join(projectRoot(), 'schema/persisted-operations.json'), 'utf8'),
  ) as Record<string, string>;
  beforeAll(async () => {
    bare = await startProductionGateway({ GRAPHQL_PERSISTED_ONLY: true });
    url = bare.url;
  });
  afterAll(() => bare?.stop());

  it('runs the manifest’s operations, as text in any layout or by hash alone, and nothing else', async () => {
    const [hash, text] = Object.entries(manifest).find(([, t]) => t.startsWith('query Viewer'))!;
    expect((await post({ query: text }, {}, url)).body).toEqual({ data: { viewer: null } });
    expect((await post({ query: `# reformatted\n${text.replace(/\s+/g, ' ')}` }, {}, url)).body).toEqual({
      data: { viewer: null },
    });
    expect((await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, {}, url)).body).toEqual({
      data: { viewer: null },
    });

    const other = await post({ query: '{ viewer { id name } }' }, {}, url);
    expect(other.status).toBe(400);
    expect(codeOf(other.body)).toBe('PERSISTED_QUERY_REQUIRED');
    // APQ cannot register new documents here
    const query = '{ viewer { name } }';
    const register = await post(
      { query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } },
      {},
      url,
    );
    expect(codeOf(register.body)).toBe('PERSISTED_QUERY_REQUIRED');
    expect(
      codeOf(
        (await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } }, {}, url)).body,
      ),
    ).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('refuses introspection as any other document outside the manifest, and still serves the REST facade (its operations are the gateway’s own)', async () => {
    const res = await post({ query: '{ __schema { types { name } } }' }, {}, url);
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('PERSISTED_QUERY_REQUIRED');
    const rest = await fetch(
      new URL('/payments/transaction-status?transaction_id=00000000-0000-4000-8000-000000000000', url),
      {
        headers: { authorization: `Bearer ${await stack.token(randomUUID())}` },
      },
    );
    expect(rest.status).toBe(404);
  });
});

describe('a gateway in production mode', () => {
  let bare: Awaited<ReturnType<typeof startBareGateway>>;
  beforeAll(async () => {
    bare = await startProductionGateway();
  });
  afterAll(() => bare?.stop());

  it('gives no "Did you mean" hints for fields, arguments, enum values or admin-only fields, and refuses introspection', async () => {
    const misspelled = [
      '{ apiKey { id } }', // apiKeys, admin-only
      '{ viewer { nmae } }',
      '{ listings(frist: 1) { nodes { id } } }',
      '{ listings(first: 1, status: ACTIV) { nodes { id } } }',
    ];
    for (const query of misspelled) {
      const res = await post({ query }, {}, bare.url);
      expect(res.status).toBe(400);
      expect(codeOf(res.body)).toBe('GRAPHQL_VALIDATION_FAILED');
      expect(JSON.stringify(res.body)).not.toMatch(/Did you mean|apiKeys|name|first|ACTIVE/);
    }
    // in development the hints stay: they help whoever writes the query
    expect(((await post({ query: '{ viewer { nmae } }' })).body as Body).errors![0]!.message).toMatch(
      /Did you mean "name"\?/,
    );
    const introspection = await post({ query: '{ __type(name: "Query") { fields { name } } }' }, {}, bare.url);
    expect(introspection.status).toBe(400);
    expect((introspection.body as Body).errors).toEqual([
      {
        message: 'Introspection is off on this gateway; the schema is published as schema/api.graphql',
        extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
      },
    ]);
  });
});

describe('engines', () => {
  it('runs either engine behind the front door, says which on /health/live, leaves signals alone, and refuses the same bombs on both', async () => {
    for (const engine of ['apollo', 'hive'] as const) {
      const signals = ['SIGTERM', 'SIGINT', 'exit'].map((event) => process.listenerCount(event));
      const gateway = await startBareGateway({ engine });
      try {
        // shutdown stays lib/lifecycle.ts's: no engine disposes itself on a signal behind its back
        expect(['SIGTERM', 'SIGINT', 'exit'].map((event) => process.listenerCount(event))).toEqual(signals);
        const live = await fetch(new URL('/health/live', gateway.url));
        expect(await live.json()).toEqual({ status: 'ok', engine });
        expect((await post({ query: '{ __typename }' }, {}, gateway.url)).body).toEqual({
          data: { __typename: 'Query' },
        });
        const bomb = await post({ query: fragmentChain(40) }, {}, gateway.url);
        expect(bomb.status).toBe(400);
      } finally {
        await gateway.stop();
      }
    }
  });
});
