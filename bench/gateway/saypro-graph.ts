import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken } from '../../lib/auth';
import { describeExit, startChild, type Child } from './children';
import type { BenchGraph } from './graph';
import { freePort } from './proc';
import { BENCH_SECRETS } from './targets';
import type { Workload } from './workloads';

const USERS = 10;
const LISTINGS = 100;
const CATEGORY = 'VEHICLES';
const SEED_TIMEOUT_MS = 120_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Our own page: 50 listings with their sellers, each seller's CRM contact and each listing's payment. */
export const PAGE: Workload = {
  name: 'page',
  description: 'SayPro: 50 listings with seller, seller.crmContact (our sync state) and payment, as an admin',
  minBytes: 20_000,
  query: `query ListingsPage {
  listings(first: 50) {
    totalCount
    edges {
      node {
        id title status price { amount currency } category location publishedAt
        seller { id name crmContact { hubspotId syncStatus lastSyncedAt } }
        payment { id status amount { amount currency } }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}`,
};

async function graphql<T>(url: string, query: string, variables: Record<string, unknown>, token?: string): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(15_000),
  });
  const body = (await res.json()) as { data?: T; errors?: unknown[] };
  if (!res.ok || body.errors?.length || !body.data)
    throw new Error(`seeding: ${res.status} ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

/** Polls until `done` holds; fails the run with `what` past the seeding deadline. */
async function until(what: string, check: () => Promise<boolean>, deadline: number) {
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`seeding: ${what} did not happen within ${SEED_TIMEOUT_MS / 1000} s`);
    await sleep(250);
  }
}

/**
 * SayPro's own graph for the gateways to front: the embedded stack (`dist/embedded/main.js`: the
 * four subgraphs, the emulators, PGlite) as one child process with the benchmark's secrets, seeded
 * through its own gateway with 10 sellers and 100 paid listings (each charged on the Stripe
 * emulator and ACTIVE, each seller synced to the HubSpot emulator). The targets get our
 * supergraph with its URLs moved to the stack's ports. Stock @apollo/gateway cannot serve it: our
 * subgraphs accept only calls with the viewer header our gateway signs.
 */
export const sayproGraph: BenchGraph = {
  name: 'SayPro (listings, payments, crm, email on the embedded stack)',
  workloads: [PAGE],
  viewerRoles: ['admin'],
  stockUnavailable:
    'our subgraphs accept only calls carrying the viewer header our gateway signs; stock @apollo/gateway sends none',
  async start({ root, dir, timeoutMs }) {
    const names = ['gateway', 'listings', 'payments', 'crm', 'email', 'stripe', 'hubspot', 'sendgrid'] as const;
    const ports = Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await freePort()] as const)),
    ) as Record<(typeof names)[number], number>;
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-stack-'));
    process.once('exit', () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const child: Child = startChild(
      'embedded stack',
      [path.join(root, 'dist/embedded/main.js')],
      {
        DATA_DIR: dataDir,
        GATEWAY_PORT: String(ports.gateway),
        LISTINGS_PORT: String(ports.listings),
        PAYMENTS_PORT: String(ports.payments),
        CRM_PORT: String(ports.crm),
        EMAIL_PORT: String(ports.email),
        STRIPE_EMULATOR_PORT: String(ports.stripe),
        HUBSPOT_EMULATOR_PORT: String(ports.hubspot),
        SENDGRID_EMULATOR_PORT: String(ports.sendgrid),
        LOG_LEVEL: 'warn',
        APOLLO_TELEMETRY_DISABLED: 'true',
        JWT_SECRET: BENCH_SECRETS.jwt,
        INTERNAL_SECRET: BENCH_SECRETS.internal,
        RATE_LIMIT_PER_IP: '0',
        RATE_LIMIT_PER_VIEWER: '0',
      },
      root,
    );
    const gateway = `http://127.0.0.1:${ports.gateway}/graphql`;
    const startDeadline = Date.now() + timeoutMs;
    await until(
      'the embedded stack becoming ready',
      async () => {
        if (child.exit) throw new Error(describeExit(child));
        try {
          const res = await fetch(`http://127.0.0.1:${ports.gateway}/health/ready`, {
            signal: AbortSignal.timeout(2000),
          });
          await res.arrayBuffer();
          return res.ok;
        } catch {
          return false;
        }
      },
      startDeadline,
    );

    const deadline = Date.now() + SEED_TIMEOUT_MS;
    const admin = await mintToken({
      secret: BENCH_SECRETS.jwt,
      userId: '00000000-0000-4000-8000-00000000a0a0',
      roles: ['admin'],
      expiresIn: '2h',
    });
    const sellers: Array<{ id: string; token: string }> = [];
    for (let i = 0; i < USERS; i++) {
      const { registerUser } = await graphql<{ registerUser: { id: string } }>(
        gateway,
        'mutation R($input: RegisterUserInput!) { registerUser(input: $input) { id } }',
        {
          input: { name: `Bench Seller ${i + 1}`, email: `bench.seller.${i + 1}@example.com` },
        },
      );
      sellers.push({
        id: registerUser.id,
        token: await mintToken({
          secret: BENCH_SECRETS.jwt,
          userId: registerUser.id,
          roles: ['user'],
          expiresIn: '2h',
        }),
      });
    }
    for (let i = 0; i < LISTINGS; i++) {
      const seller = sellers[i % USERS]!;
      const { createListing } = await graphql<{ createListing: { id: string } }>(
        gateway,
        'mutation C($input: CreateListingInput!) { createListing(input: $input) { id } }',
        {
          input: {
            title: `Bench car ${i + 1}`,
            description: `Benchmark listing ${i + 1}: one owner, full service history.`,
            price: { amount: 500_000 + i * 1000, currency: 'USD' },
            category: CATEGORY,
            location: ['Cape Town', 'Johannesburg', 'Durban', 'Pretoria'][i % 4],
          },
        },
        seller.token,
      );
      await graphql(
        gateway,
        'mutation P($input: ChargeListingInput!) { chargeListing(input: $input) { status } }',
        {
          input: { listingId: createListing.id, paymentMethodId: 'pm_card_visa', idempotencyKey: `bench-page-${i}` },
        },
        seller.token,
      );
    }
    await until(
      `all ${LISTINGS} listings ACTIVE`,
      async () => {
        const { listings } = await graphql<{ listings: { edges: Array<{ node: { status: string } }> } }>(
          gateway,
          'query { listings(first: 100) { edges { node { status } } } }',
          {},
          admin,
        );
        return listings.edges.filter((e) => e.node.status === 'ACTIVE').length >= LISTINGS;
      },
      deadline,
    );
    await until(
      `all ${USERS} sellers synced to HubSpot`,
      async () => {
        const { users } = await graphql<{
          users: { edges: Array<{ node: { crmContact: { hubspotId: string | null } | null } }> };
        }>(gateway, 'query { users(first: 50) { edges { node { crmContact { hubspotId } } } } }', {}, admin);
        return users.edges.filter((e) => e.node.crmContact?.hubspotId).length >= USERS;
      },
      deadline,
    );

    const supergraphPath = path.join(dir, 'saypro-supergraph.graphql');
    const sdl = fs
      .readFileSync(path.join(root, 'schema/supergraph.graphql'), 'utf8')
      .replace(/@join__graph\(name: "(\w+)", url: "[^"]*"\)/g, (whole, name: string) =>
        name in ports
          ? `@join__graph(name: "${name}", url: "http://127.0.0.1:${ports[name as keyof typeof ports]}/graphql")`
          : whole,
      );
    fs.writeFileSync(supergraphPath, sdl);
    return {
      supergraphPath,
      children: [child],
      // The embedded stack counts no subgraph requests: "sg req/answer" reads 0 for this graph.
      probe: { pids: [child.pid], requests: async () => 0 },
    };
  },
};
