import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CreateListingDocument, ListingsPageDocument, RegisterUserDocument } from '../generated/graphql';
import { mintToken } from '../../lib/auth';
import { createGraphClient, dataOf } from '../helpers/graph-client';
import { listingInput } from '../helpers/fixtures';
import { freePort, startProcess, waitReady, type ServiceProcess } from '../helpers/processes';
import { TEST_DATABASE_URL, createScratchPostgres } from '../helpers/test-db';

/**
 * Production topology: the gateway and the listings subgraph as separate processes from the build
 * (`dist/`), configured by env alone. On PostgreSQL when TEST_DATABASE_URL is set (.ci/run), else
 * the listings process keeps PGlite in its own data folder.
 */
const secrets = { JWT_SECRET: randomBytes(32).toString('hex'), INTERNAL_SECRET: randomBytes(32).toString('hex') };
let listings: ServiceProcess | undefined;
let gateway: ServiceProcess | undefined;
let gatewayUrl: string;
let cleanup: () => Promise<void> = async () => undefined;

beforeAll(async () => {
  const [gatewayPort, listingsPort] = [await freePort(), await freePort()];
  let database: Record<string, string>;
  if (TEST_DATABASE_URL) {
    const scratch = await createScratchPostgres();
    database = { DATABASE_URL: scratch.url };
    cleanup = scratch.drop;
  } else {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-listings-'));
    database = { DATA_DIR: dir };
    cleanup = async () => fs.rmSync(dir, { recursive: true, force: true });
  }
  const common = { NODE_ENV: 'production', HOST: '127.0.0.1', ...secrets, POSTING_FEES: '{"JOBS":0}' };
  listings = startProcess('dist/subgraphs/listings/main.js', { ...common, ...database, LISTINGS_PORT: String(listingsPort) });
  await waitReady(`http://127.0.0.1:${listingsPort}/health/ready`, listings);
  gateway = startProcess('dist/gateway/main.js', {
    ...common,
    GATEWAY_PORT: String(gatewayPort),
    LISTINGS_URL: `http://127.0.0.1:${listingsPort}/graphql`,
  });
  await waitReady(`http://127.0.0.1:${gatewayPort}/health/ready`, gateway);
  gatewayUrl = `http://127.0.0.1:${gatewayPort}/graphql`;
}, 90_000);

afterAll(async () => {
  await gateway?.stop();
  await listings?.stop();
  await cleanup();
});

describe('services mode: gateway and listings as separate processes', () => {
  it('serves queries and mutations through the gateway', async () => {
    const graph = createGraphClient(gatewayUrl);
    const { registerUser } = dataOf(await graph(RegisterUserDocument, { input: { name: 'Prod', email: `prod.${Date.now()}@example.com` } }));
    const token = mintToken({ secret: secrets.JWT_SECRET, userId: registerUser.id });
    const { createListing } = dataOf(await graph(CreateListingDocument, { input: listingInput({ category: 'JOBS', title: 'Night shift' }) }, { token }));
    expect(createListing.status).toBe('ACTIVE');
    const page = dataOf(await graph(ListingsPageDocument, { filter: { sellerId: registerUser.id } }));
    expect(page.listings.edges.map((e) => e.node.title)).toEqual(['Night shift']);
    expect(page.listings.edges[0]!.node.seller.id).toBe(registerUser.id);
  });

  it('turns introspection off in production', async () => {
    const res = await fetch(gatewayUrl, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { types { name } } }' }) });
    const body = (await res.json()) as { errors?: Array<{ extensions: { code: string } }> };
    expect(body.errors?.[0]?.extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('stops cleanly on SIGTERM', async () => {
    expect(await gateway!.stop()).toBe(0);
    expect(await listings!.stop()).toBe(0);
    expect(gateway!.output()).not.toMatch(/error/i);
  });
});

describe('services mode: configuration', () => {
  it('refuses to start without its secrets, naming them', async () => {
    const proc = startProcess('dist/gateway/main.js', { GATEWAY_PORT: String(await freePort()) });
    expect(await proc.exited).toBe(2);
    expect(proc.output()).toMatch(/JWT_SECRET/);
    expect(proc.output()).toMatch(/INTERNAL_SECRET/);
  });

  it('names every bad variable at once', async () => {
    const proc = startProcess('dist/subgraphs/listings/main.js', { ...secrets, LISTINGS_PORT: 'abc', DATABASE_URL: 'mysql://nope', LOG_LEVEL: 'loud' });
    expect(await proc.exited).toBe(2);
    for (const name of ['LISTINGS_PORT', 'DATABASE_URL', 'LOG_LEVEL']) expect(proc.output()).toContain(name);
  });
});
