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
    // Each test speaks from its own address, as a client behind our one proxy.
    TRUST_PROXY_HOPS: '1',
  });
});
afterAll(() => stack?.stop());

type Body = { data?: unknown; errors?: Array<{ message: string; extensions: Record<string, unknown> }> };
let ips = 0;
/** A client address no other request in this file used, so each test has its own rate bucket. */
const freshIp = () => `10.${Math.floor(++ips / 250)}.${ips % 250}.1`;
async function post(body: unknown, headers: Record<string, string> = {}, url = stack.urls.gateway) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': freshIp(), ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Body | Body[] };
}
const codeOf = (body: Body | Body[]) => (body as Body).errors?.[0]?.extensions.code;
const noInternals = (body: unknown) => expect(JSON.stringify(body)).not.toMatch(/stacktrace|\.ts:\d+|\.js:\d+|node_modules|SELECT /i);

describe('abuse limits at the gateway', () => {
  it('runs the legitimate operations: a page of 50 listings with sellers and their crm contact', async () => {
    const res = await post({ query: 'query { listings(first: 50) { nodes { id title seller { id name crmContact { syncStatus properties { name value } } } } } }' });
    expect(res.status).toBe(200);
    expect((res.body as Body).errors).toBeUndefined();
  });

  it('refuses a query nested past the depth limit with QUERY_TOO_DEEP, before any subgraph is asked', async () => {
    const deep = '{ listings(first: 1) { nodes { seller { listings(first: 1) { nodes { seller { listings(first: 1) { nodes { id } } } } } } } } }';
    const res = await post({ query: deep });
    expect(res.status).toBe(400);
    expect((res.body as Body).errors).toEqual([{ message: 'Query depth 9 exceeds the limit of 6', extensions: { code: 'QUERY_TOO_DEEP', limit: 6, actual: 9 } }]);
  });

  it('refuses a query whose pages multiply past the cost limit with QUERY_TOO_COSTLY, also when the size is a variable', async () => {
    const costly = 'query($n: Int) { listings(first: $n) { nodes { seller { listings(first: $n) { nodes { id title } } } } } }';
    const res = await post({ query: costly, variables: { n: 100 } });
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('QUERY_TOO_COSTLY');
    expect((res.body as Body).errors![0]!.extensions).toMatchObject({ limit: 5000, actual: 1 + 100 * (1 + 1 + 1 + 100 * 3) });
    const small = await post({ query: costly, variables: { n: 5 } });
    expect((small.body as Body).errors).toBeUndefined();
  });

  it('refuses an alias bomb with TOO_MANY_ALIASES, counting aliases inside fragments at every spread', async () => {
    const aliases = Array.from({ length: 6 }, (_, i) => `v${i}: viewer { id }`).join(' ');
    expect(codeOf((await post({ query: `{ ${aliases} }` })).body)).toBe('TOO_MANY_ALIASES');
    const viaFragment = await post({ query: 'query { a: viewer { ...F } b: viewer { ...F } } fragment F on User { x: id y: name }' });
    expect((viaFragment.body as Body).errors![0]!.extensions).toEqual({ code: 'TOO_MANY_ALIASES', limit: 5, actual: 6 });
  });

  it('stops parsing a document past the token limit with TOO_MANY_TOKENS', async () => {
    const res = await post({ query: `{ viewer { ${'id '.repeat(500)} } }` });
    expect(res.status).toBe(400);
    expect((res.body as Body).errors).toEqual([{ message: 'The document has more than 400 tokens', extensions: { code: 'TOO_MANY_TOKENS', limit: 400 } }]);
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
    expect(big.body).toEqual({ errors: [{ message: 'A batch may hold at most 3 operations; this one has 4', extensions: { code: 'BATCH_TOO_LARGE' } }] });
    // 3 of this address's 5 are gone: a batch of 3 more is refused
    expect((await post([one, one, one], { 'x-forwarded-for': ip })).status).toBe(429);
  });

  it('rate-limits anonymous callers per address and signed-in viewers per viewer, with 429 and Retry-After', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
    const limited = await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip });
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect((limited.body as Body).errors![0]!.extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: expect.any(Number) });
    // another address is not affected
    expect((await post({ query: '{ viewer { id } }' })).status).toBe(200);

    // a viewer has their own bucket, whatever address they come from
    const token = stack.token(randomUUID());
    const viewerStatuses: number[] = [];
    for (let i = 0; i < 9; i++) viewerStatuses.push((await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${token}` })).status);
    expect(viewerStatuses).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 429]);
    expect((await post({ query: '{ viewer { id } }' }, { authorization: `Bearer ${stack.token(randomUUID())}` })).status).toBe(200);
  });

  it('counts failed sign-ins against the address, so guessing tokens is limited too', async () => {
    const ip = freshIp();
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await post({ query: '{ viewer { id } }' }, { 'x-forwarded-for': ip, authorization: 'Bearer a.b.c' })).status);
    expect(statuses).toEqual([401, 401, 401, 401, 401, 429]);
  });

  it('rate-limits the REST facade through the same context, with Retry-After', async () => {
    const ip = freshIp();
    let last: Response | undefined;
    for (let i = 0; i < 6; i++) last = await fetch(new URL('/crm/user-data?user_id=x', stack.urls.gateway), { headers: { 'x-forwarded-for': ip } });
    expect(last!.status).toBe(429);
    expect(last!.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await last!.json()).toEqual({ error: { code: 'RATE_LIMITED', message: expect.stringMatching(/^Too many requests/) } });
  });

  it('supports automatic persisted queries: a hash alone is unknown until the text was sent once', async () => {
    const query = `{ viewer { id } } # apq ${randomUUID()}`;
    const persistedQuery = { version: 1, sha256Hash: sha256Hex(query) };
    expect(codeOf((await post({ extensions: { persistedQuery } })).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
    expect((await post({ query, extensions: { persistedQuery } })).body).toEqual({ data: { viewer: null } });
    expect((await post({ extensions: { persistedQuery } })).body).toEqual({ data: { viewer: null } });
  });

  it('keeps every refusal free of internals', async () => {
    for (const body of [{ query: '{ '.repeat(300) }, { query: '{ viewer { id } }', variables: 'nope' }, [], [{}], { query: 42 }]) {
      const res = await post(body);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
      noInternals(res.body);
    }
  });
});

describe('a gateway in production mode with GRAPHQL_PERSISTED_ONLY', () => {
  let bare: Awaited<ReturnType<typeof startBareGateway>>;
  let url: string;
  const manifest = JSON.parse(fs.readFileSync(path.join(projectRoot(), 'schema/persisted-operations.json'), 'utf8')) as Record<string, string>;
  beforeAll(async () => {
    bare = await startBareGateway({
      subgraphUrls: stack.urls.subgraphs,
      jwt: { secret: stack.config.JWT_SECRET },
      internalSecret: stack.config.INTERNAL_SECRET,
      development: false,
      limits: limitsFromConfig({ ...stack.config, GRAPHQL_PERSISTED_ONLY: true, TRUST_PROXY_HOPS: 1 }),
    });
    url = bare.url;
  });
  afterAll(() => bare?.stop());

  it('runs the manifest’s operations, as text in any layout or by hash alone, and nothing else', async () => {
    const [hash, text] = Object.entries(manifest).find(([, t]) => t.startsWith('query Viewer'))!;
    expect((await post({ query: text }, {}, url)).body).toEqual({ data: { viewer: null } });
    expect((await post({ query: `# reformatted\n${text.replace(/\s+/g, ' ')}` }, {}, url)).body).toEqual({ data: { viewer: null } });
    expect((await post({ extensions: { persistedQuery: { version: 1, sha256Hash: hash } } }, {}, url)).body).toEqual({ data: { viewer: null } });

    const other = await post({ query: '{ viewer { id name } }' }, {}, url);
    expect(other.status).toBe(400);
    expect(codeOf(other.body)).toBe('PERSISTED_QUERY_REQUIRED');
    // APQ cannot register new documents here
    const query = '{ viewer { name } }';
    const register = await post({ query, extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } }, {}, url);
    expect(codeOf(register.body)).toBe('PERSISTED_QUERY_REQUIRED');
    expect(codeOf((await post({ extensions: { persistedQuery: { version: 1, sha256Hash: sha256Hex(query) } } }, {}, url)).body)).toBe('PERSISTED_QUERY_NOT_FOUND');
  });

  it('has introspection off and still serves the REST facade (its operations are the gateway’s own)', async () => {
    const res = await post({ query: '{ __schema { types { name } } }' }, {}, url);
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('GRAPHQL_VALIDATION_FAILED');
    const rest = await fetch(new URL('/payments/transaction-status?transaction_id=00000000-0000-4000-8000-000000000000', url), {
      headers: { authorization: `Bearer ${stack.token(randomUUID())}` },
    });
    expect(rest.status).toBe(404);
  });
});
