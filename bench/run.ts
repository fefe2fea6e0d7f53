/**
 * `npm run bench`: load-tests the embedded graph exactly as a user runs it.
 *
 * Starts `node dist/embedded/main.js` as a child process on a fresh data folder and free loopback
 * ports, times it to ready (first start: a new data folder, from the migrated template; warm: restarted on the same folder), seeds
 * 10 users and 100 JOBS listings through the gateway, then runs autocannon against a 50-listings
 * page with sellers, through the gateway and directly on the listings subgraph; then creates 300
 * PENDING_PAYMENT VEHICLES listings and charges each once through the gateway (chargeListing, its
 * seller's token, a fresh idempotency key) against the in-process Stripe emulator, checking every
 * answer and the emulator's PaymentIntents afterwards; then registers 1,000 users (timing their
 * automatic CRM sync) and runs syncAllUsersToCrm over everyone, counting the HubSpot emulator's
 * requests and 429s; PayPal checkouts (start, the payer's approval, capture) count the PayPal
 * emulator's orders, captures and token requests. Prints a table and writes
 * bench/results/latest.json. No assertions on the figures (a baseline); any failed request, GraphQL
 * error, unsuccessful or double charge exits 1.
 */
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { mintToken, signViewerHeader, VIEWER_HEADER } from '../lib/auth';
import { projectRoot } from '../lib/data-dir';
import { templateFile } from '../embedded/template';
import { crmBulkBench, crmBulkProblems } from './crm-bulk';
import { confirmEmail, emulatorState } from './shared';
import { paypalBench, paypalProblems } from './paypal';
import { publishLatency, publishLatencyProblems } from './publish-latency';
import { autocannon, type AutocannonOptions } from './gateway/autocannon';
import { cpuSecondsOf, freePortsFor, memoryOf } from './gateway/proc';
import { STACK_PORT_KEYS } from '../lib/config';

const ROOT = projectRoot();
const MAIN = path.join(ROOT, 'dist/embedded/main.js');
const CONNECTIONS = 10;
const WARMUP_SECONDS = 3;
const MEASURE_SECONDS = 10;
const USERS = 10;
const LISTINGS = 100;
/** Listings charged in the chargeListing scenario, one request each. */
const CHARGES = 300;
/** Listings paid with PayPal (start, approve, capture), PAYPAL_CONCURRENCY at a time. */
const PAYPAL_CHECKOUTS = 100;
const PAYPAL_CONCURRENCY = 10;
/** Users registered before the bulk CRM sync (which then syncs them and everyone else). */
const CRM_USERS = 1000;
const PAGE_SIZE = 50;
const READY_POLL_MS = 50;
const READY_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;
/** The whole run is killed past this: it must always end by itself. */
const WATCHDOG_MS = 15 * 60_000;

const PAGE_QUERY = `query Page { listings(first: ${PAGE_SIZE}) { edges { node { id title price { amount currency } status seller { id name } } } pageInfo { hasNextPage endCursor } } }`;

const log = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

interface Stack {
  child: ChildProcess;
  pid: number;
  readyMs: number;
  gatewayUrl: string;
  listingsUrl: string;
  /** Everything the child wrote, for the warnings report. */
  output: { stdout: string[]; stderr: string[] };
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<ChildProcess>();

/** Every port the embedded stack opens (lib/config.ts STACK_PORT_KEYS), each set to a free one. */
type Ports = Record<string, string>;

async function startStack(dataDir: string, ports: Ports): Promise<Stack> {
  const env: NodeJS.ProcessEnv = {
    ...ports,
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATA_DIR: dataDir,
    METRICS_PORT: '0',
    ENV_FILE: '',
    LOG_LEVEL: 'warn',
    APOLLO_TELEMETRY_DISABLED: 'true',
    POSTING_FEES: '{"JOBS":0}',
    // The bench's users are tracked (GA4), so that the reach figures have events to time.
    ANALYTICS_CONSENT_DEFAULT: 'granted',
    // A load test is one client sending far past any per-client rate; it measures throughput.
    RATE_LIMIT_PER_IP: '0',
    RATE_LIMIT_PER_VIEWER: '0',
  };
  const output = { stdout: [] as string[], stderr: [] as string[] };
  const t0 = performance.now();
  const child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const collect = (into: string[]) => (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) into.push(line);
  };
  child.stdout!.on('data', collect(output.stdout));
  child.stderr!.on('data', collect(output.stderr));
  if (!child.pid) throw new Error('could not spawn the embedded stack');

  let exitedEarly: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  void exited.then((e) => (exitedEarly = e));
  const readyUrl = `http://127.0.0.1:${ports.GATEWAY_PORT}/health/ready`;
  for (;;) {
    if (exitedEarly) {
      throw new Error(
        `embedded stack exited before ready (code ${exitedEarly.code}, signal ${exitedEarly.signal}):\n${[...output.stdout, ...output.stderr].join('\n')}`,
      );
    }
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      if (res.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (performance.now() - t0 > READY_TIMEOUT_MS) {
      child.kill('SIGKILL');
      throw new Error(`embedded stack not ready after ${READY_TIMEOUT_MS} ms`);
    }
    await sleep(READY_POLL_MS);
  }
  const readyMs = Math.round(performance.now() - t0);
  return {
    child,
    pid: child.pid,
    readyMs,
    gatewayUrl: `http://127.0.0.1:${ports.GATEWAY_PORT}/graphql`,
    listingsUrl: `http://127.0.0.1:${ports.LISTINGS_PORT}/graphql`,
    output,
    exited,
  };
}

/** SIGTERM, then wait for the exit; SIGKILL if it hangs. */
async function stopStack(
  stack: Stack,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stopMs: number; killed: boolean }> {
  const t0 = performance.now();
  stack.child.kill('SIGTERM');
  const timeout = sleep(STOP_TIMEOUT_MS).then(() => 'timeout' as const);
  const result = await Promise.race([stack.exited, timeout]);
  if (result === 'timeout') {
    stack.child.kill('SIGKILL');
    const e = await stack.exited;
    return { ...e, stopMs: Math.round(performance.now() - t0), killed: true };
  }
  return { ...result, stopMs: Math.round(performance.now() - t0), killed: false };
}

interface GraphQLResponse<T> {
  data?: T;
  errors?: Array<{ message: string }>;
}

async function graphql<T>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Promise<T> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(10_000),
  });
  const body = (await res.json()) as GraphQLResponse<T>;
  if (!res.ok || body.errors?.length || !body.data) {
    throw new Error(`GraphQL ${res.status} from ${url}: ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

const REGISTER = `mutation Register($input: RegisterUserInput!) { registerUser(input: $input) { id } }`;
const CREATE = `mutation Create($input: CreateListingInput!) { createListing(input: $input) { id status } }`;

async function seed(
  stack: Stack,
  secrets: { JWT_SECRET: string; INTERNAL_SECRET: string },
): Promise<{ users: number; listings: number; seedMs: number; sellers: Array<{ id: string; token: string }> }> {
  const t0 = performance.now();
  const users: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < USERS; i++) {
    const email = `bench.seller.${i + 1}@example.com`;
    const { registerUser } = await graphql<{ registerUser: { id: string } }>(stack.gatewayUrl, REGISTER, {
      input: { name: `Bench Seller ${i + 1}`, email },
    });
    // Confirmed, as a real seller is: only confirmed addresses reach the CRM (the bulk sync counts the rest failed).
    await confirmEmail(graphql, stack.gatewayUrl, { id: registerUser.id, email }, secrets.INTERNAL_SECRET);
    users.push({
      id: registerUser.id,
      token: await mintToken({ secret: secrets.JWT_SECRET, userId: registerUser.id, roles: ['user'], expiresIn: '2h' }),
    });
  }
  for (let i = 0; i < LISTINGS; i++) {
    const seller = users[i % USERS]!;
    const { createListing } = await graphql<{ createListing: { id: string; status: string } }>(
      stack.gatewayUrl,
      CREATE,
      {
        input: {
          title: `Bench job ${i + 1}`,
          description: `Benchmark listing ${i + 1}: a part-time role, flexible hours.`,
          price: { amount: 10_000 + i * 100, currency: 'USD' },
          category: 'JOBS',
          location: ['Cape Town', 'Johannesburg', 'Durban', 'Pretoria'][i % 4],
        },
      },
      { authorization: `Bearer ${seller.token}` },
    );
    if (createListing.status !== 'ACTIVE')
      throw new Error(
        `listing ${createListing.id} is ${createListing.status}, expected ACTIVE (POSTING_FEES not applied?)`,
      );
  }
  return { users: USERS, listings: LISTINGS, seedMs: Math.round(performance.now() - t0), sellers: users };
}

interface PageData {
  listings: {
    edges: Array<{ node: { id: string; title: string; status: string; seller: { id: string; name: string } | null } }>;
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
  };
}

/** Extra headers for one request body: none through the gateway, a freshly signed viewer header direct to a subgraph. */
type HeadersFor = (body: string) => Record<string, string>;

async function verifyPage(url: string, headersFor: HeadersFor, label: string): Promise<number> {
  const body = JSON.stringify({ query: PAGE_QUERY });
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headersFor(body) },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  const parsed = JSON.parse(text) as GraphQLResponse<PageData>;
  const edges = parsed.data?.listings.edges ?? [];
  const problems: string[] = [];
  if (res.status !== 200) problems.push(`status ${res.status}`);
  if (parsed.errors?.length) problems.push(`errors ${JSON.stringify(parsed.errors)}`);
  if (edges.length !== PAGE_SIZE) problems.push(`${edges.length} edges, expected ${PAGE_SIZE}`);
  if (edges.some((e) => !e.node.seller?.id || !e.node.seller.name)) problems.push('an edge without its seller');
  if (!parsed.data?.listings.pageInfo.hasNextPage) problems.push('hasNextPage is false with 100 listings');
  if (problems.length) throw new Error(`${label} page check failed: ${problems.join('; ')}`);
  return Buffer.byteLength(text);
}

interface LoadFigures {
  url: string;
  requestsPerSec: number;
  requestsTotal: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  throughputMiBPerSec: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  statusCodes: Record<string, number>;
  warmup: { requestsPerSec: number; non2xx: number; errors: number; mismatches: number };
  /** CPU the stack and this process (autocannon) used during the measured run, % of one core. */
  cpuPercent: { stack: number; loadGenerator: number };
}

async function load(url: string, headersFor: HeadersFor, label: string, stackPid: number): Promise<LoadFigures> {
  const body = JSON.stringify({ query: PAGE_QUERY });
  const opts = (duration: number): AutocannonOptions => ({
    url,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body,
    // Each request its own headers: a direct subgraph call needs a viewer header signed for it.
    requests: [{ setupRequest: (request) => ({ ...request, headers: { ...request.headers, ...headersFor(body) } }) }],
    connections: CONNECTIONS,
    duration,
    timeout: 10,
    // A 200 with GraphQL errors is still a failure: count it as a mismatch.
    verifyBody: (body: string) => !body.includes('"errors"'),
  });
  log(`${label}: warm-up ${WARMUP_SECONDS} s`);
  const warm = await autocannon(opts(WARMUP_SECONDS));
  log(`${label}: measuring ${MEASURE_SECONDS} s`);
  const stackCpu0 = cpuSecondsOf(stackPid);
  const ownCpu0 = process.cpuUsage();
  const wall0 = performance.now();
  const r = await autocannon(opts(MEASURE_SECONDS));
  const wallSeconds = (performance.now() - wall0) / 1000;
  const ownCpu = process.cpuUsage(ownCpu0);
  const stackCpuPercent = round(((cpuSecondsOf(stackPid) - stackCpu0) / wallSeconds) * 100, 0);
  const ownCpuPercent = round(((ownCpu.user + ownCpu.system) / 1e6 / wallSeconds) * 100, 0);
  const statusCodes = Object.fromEntries(
    Object.entries(r.statusCodeStats ?? {}).map(([code, s]) => [code, Number(s.count)]),
  );
  return {
    url,
    requestsPerSec: round(r.requests.average, 1),
    requestsTotal: r.requests.total,
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMeanMs: round(r.latency.average),
    latencyMaxMs: r.latency.max,
    throughputMiBPerSec: round(r.throughput.average / 1024 / 1024),
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    mismatches: r.mismatches,
    statusCodes,
    warmup: {
      requestsPerSec: round(warm.requests.average, 1),
      non2xx: warm.non2xx,
      errors: warm.errors,
      mismatches: warm.mismatches,
    },
    cpuPercent: { stack: stackCpuPercent, loadGenerator: ownCpuPercent },
  };
}

const CHARGE = `mutation Charge($input: ChargeListingInput!) { chargeListing(input: $input) { status transactionId amount currency paymentStatus } }`;
/** The posting fee of a VEHICLES listing (POSTING_FEE_AMOUNT / _CURRENCY defaults; only JOBS is overridden). */
const FEE = { amount: 1000, currency: 'USD' };
/** After the load, how long the listings get to go ACTIVE (payment.succeeded consumed by listings). */
const SETTLE_TIMEOUT_MS = 30_000;

interface ChargeFigures {
  /** Requests answered (autocannon's count). */
  charges: number;
  /** Requests built, i.e. listings handed out; must equal CHARGES (no listing used twice). */
  requestsBuilt: number;
  distinctListingsSent: number;
  /** Answers / seconds from the first request to the last answer. */
  chargesPerSec: number;
  wallSeconds: number;
  /** Until autocannon resolved (its 1 s tick). */
  autocannonSeconds: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  latencyMeanMs: number;
  latencyMaxMs: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** Bodies checked (every answer, 2xx or not). */
  bodiesChecked: number;
  /** Answers with GraphQL errors (or unparseable). */
  graphqlErrors: number;
  /** Answers without errors whose status is not SUCCEEDED, or whose amount / currency is not the fee. */
  notSucceeded: number;
  succeeded: number;
  distinctTransactionIds: number;
  /** From GET /__emulator/state, counted over the charged listings (metadata.listing_id). */
  emulator: {
    url: string;
    succeededIntentsNew: number;
    succeededIntentsForChargedListings: number;
    listingsWithOneSucceededIntent: number;
    listingsWithMoreThanOne: number;
    listingsWithNone: number;
    intentsNotSucceeded: number;
    webhookDeliveriesOk: number;
    webhookDeliveriesFailed: number;
  };
  /** After the load: time until every charged listing read ACTIVE through the gateway. */
  settle: { ms: number; active: number };
  /** The charged listings and their sellers' tokens (not written to the results). */
  listings: Array<{ listingId: string; token: string }>;
  prepareMs: number;
  rssMiBAfter: number | null;
  /** VmRSS / VmHWM right after the charge load (VmHWM: the warm process's peak so far). */
  memoryAfter: { rssMiB: number; peakMiB: number } | null;
  cpuPercent: { stack: number; loadGenerator: number };
}

interface EmulatorSnapshot {
  paymentIntents: Array<{
    id: string;
    status: string;
    amount: number;
    currency: string;
    metadata?: Record<string, string> | null;
  }>;
  deliveries: Array<{ status: number | 'error'; type: string }>;
}

/** Status of each listing, read as its seller through the gateway (one aliased query per seller). */
async function listingStatuses(
  stack: Stack,
  items: Array<{ listingId: string; token: string }>,
): Promise<Map<string, string>> {
  const byToken = new Map<string, string[]>();
  for (const item of items) byToken.set(item.token, [...(byToken.get(item.token) ?? []), item.listingId]);
  const statuses = new Map<string, string>();
  for (const [token, all] of byToken) {
    // Ten aliases per query: the gateway refuses more than GRAPHQL_MAX_ALIASES (15).
    for (let i = 0; i < all.length; i += 10) {
      const ids = all.slice(i, i + 10);
      const query = `query Statuses { ${ids.map((id, n) => `l${n}: listing(id: ${JSON.stringify(id)}) { id status }`).join(' ')} }`;
      const data = await graphql<Record<string, { id: string; status: string }>>(stack.gatewayUrl, query, undefined, {
        authorization: `Bearer ${token}`,
      });
      for (const l of Object.values(data)) statuses.set(l.id, l.status);
    }
  }
  return statuses;
}

/**
 * chargeListing through the gateway: each request pays a different PENDING_PAYMENT VEHICLES
 * listing, as its seller (with that seller's token), with a fresh idempotency key, against the
 * local Stripe emulator; bounded by count (one request per listing), not by time. Every answer is
 * checked; afterwards the emulator must hold exactly one succeeded PaymentIntent per charged listing
 * and every listing must go ACTIVE.
 */
async function chargeLoad(
  stack: Stack,
  sellers: Array<{ id: string; token: string }>,
  stripeUrl: string,
): Promise<ChargeFigures> {
  const t0 = performance.now();
  const pending: Array<{ listingId: string; token: string }> = [];
  log(`chargeListing: creating ${CHARGES} PENDING_PAYMENT VEHICLES listings over ${sellers.length} sellers`);
  for (let i = 0; i < CHARGES; i++) {
    const seller = sellers[i % sellers.length]!;
    const { createListing } = await graphql<{ createListing: { id: string; status: string } }>(
      stack.gatewayUrl,
      CREATE,
      {
        input: {
          title: `Bench bike ${i + 1}`,
          description: 'A listing to pay for.',
          price: { amount: 50_000, currency: 'USD' },
          category: 'VEHICLES',
          location: 'Cape Town',
        },
      },
      { authorization: `Bearer ${seller.token}` },
    );
    if (createListing.status !== 'PENDING_PAYMENT')
      throw new Error(`listing ${createListing.id} is ${createListing.status}, expected PENDING_PAYMENT`);
    pending.push({ listingId: createListing.id, token: seller.token });
  }
  const prepareMs = Math.round(performance.now() - t0);
  const chargedIds = new Set(pending.map((p) => p.listingId));
  const before = await emulatorState<EmulatorSnapshot>(stripeUrl);
  const succeededBefore = before.paymentIntents.filter((pi) => pi.status === 'succeeded').length;
  if (before.paymentIntents.some((pi) => chargedIds.has(pi.metadata?.listing_id ?? '')))
    throw new Error('the emulator already holds PaymentIntents for the new listings');

  // autocannon builds each request just before sending it (one setupRequest call per request, one
  // iterator per connection); `next` hands out the listings in order, each once.
  let next = 0;
  const sent = new Set<string>();
  const check = {
    bodies: 0,
    graphqlErrors: 0,
    notSucceeded: 0,
    succeeded: 0,
    transactionIds: new Set<string>(),
    samples: [] as string[],
  };
  const sample = (body: string) => {
    if (check.samples.length < 5) check.samples.push(body.slice(0, 300));
  };
  log(`chargeListing: ${CHARGES} charges, ${CONNECTIONS} connections`);
  const stackCpu0 = cpuSecondsOf(stack.pid);
  const ownCpu0 = process.cpuUsage();
  const wall0 = performance.now();
  // autocannon resolves on its next 1 s sampling tick after the last answer: time and CPU are taken
  // at the last answer instead, or the rate would be understated by up to a second's worth.
  let last: { at: number; stackCpu: number; ownCpu: NodeJS.CpuUsage } | undefined;
  const r = await autocannon({
    url: stack.gatewayUrl,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    connections: CONNECTIONS,
    amount: CHARGES,
    timeout: 20,
    requests: [
      {
        setupRequest: (request) => {
          // Past the list (never expected) a listing would be reused: that charge fails and is counted.
          const item = pending[next++ % pending.length]!;
          sent.add(item.listingId);
          return {
            ...request,
            headers: { ...request.headers, 'content-type': 'application/json', authorization: `Bearer ${item.token}` },
            body: JSON.stringify({
              query: CHARGE,
              variables: {
                input: {
                  listingId: item.listingId,
                  paymentMethodId: 'pm_card_visa',
                  idempotencyKey: `bench-${randomUUID()}`,
                },
              },
            }),
          };
        },
      },
    ],
    verifyBody: (body: string) => {
      check.bodies++;
      if (check.bodies === CHARGES)
        last = { at: performance.now(), stackCpu: cpuSecondsOf(stack.pid), ownCpu: process.cpuUsage(ownCpu0) };
      let parsed: GraphQLResponse<{
        chargeListing: {
          status: string;
          transactionId: string;
          amount: number;
          currency: string;
          paymentStatus: string;
        } | null;
      }>;
      try {
        parsed = JSON.parse(body);
      } catch {
        check.graphqlErrors++;
        sample(body);
        return false;
      }
      const c = parsed.data?.chargeListing;
      if (parsed.errors?.length || !c) {
        check.graphqlErrors++;
        sample(body);
        return false;
      }
      if (c.status !== 'SUCCEEDED' || c.amount !== FEE.amount || c.currency !== FEE.currency) {
        check.notSucceeded++;
        sample(body);
        return false;
      }
      check.succeeded++;
      check.transactionIds.add(c.transactionId);
      return true;
    },
  });
  const autocannonSeconds = (performance.now() - wall0) / 1000;
  const end = last ?? { at: performance.now(), stackCpu: cpuSecondsOf(stack.pid), ownCpu: process.cpuUsage(ownCpu0) };
  const wallSeconds = (end.at - wall0) / 1000;
  const stackCpuPercent = round(((end.stackCpu - stackCpu0) / wallSeconds) * 100, 0);
  const ownCpuPercent = round(((end.ownCpu.user + end.ownCpu.system) / 1e6 / wallSeconds) * 100, 0);
  const memoryAfter = memoryOf(stack.pid);
  const rssMiBAfter = memoryAfter?.rssMiB ?? null;
  if (check.samples.length)
    log(`chargeListing: first failed answers:\n${check.samples.map((b) => `  ${b}`).join('\n')}`);

  // Every charged listing goes ACTIVE once listings has consumed its payment.succeeded.
  const settle0 = performance.now();
  let active = 0;
  for (;;) {
    const statuses = await listingStatuses(stack, pending);
    active = [...statuses.values()].filter((s) => s === 'ACTIVE').length;
    if (active === pending.length || performance.now() - settle0 > SETTLE_TIMEOUT_MS) break;
    await sleep(100);
  }
  const settleMs = Math.round(performance.now() - settle0);

  // No double charge: exactly one succeeded PaymentIntent per charged listing, none failed.
  const after = await emulatorState<EmulatorSnapshot>(stripeUrl);
  const perListing = new Map<string, number>();
  let intentsNotSucceeded = 0;
  let succeededForCharged = 0;
  for (const pi of after.paymentIntents) {
    const listingId = pi.metadata?.listing_id;
    if (!listingId || !chargedIds.has(listingId)) continue;
    if (pi.status !== 'succeeded') {
      intentsNotSucceeded++;
      continue;
    }
    succeededForCharged++;
    perListing.set(listingId, (perListing.get(listingId) ?? 0) + 1);
  }
  const counts = [...chargedIds].map((id) => perListing.get(id) ?? 0);
  const deliveries = after.deliveries.filter((d) => d.type.startsWith('payment_intent.'));
  return {
    listings: pending,
    charges: r.requests.total,
    requestsBuilt: next,
    distinctListingsSent: sent.size,
    chargesPerSec: round(r.requests.total / wallSeconds, 1),
    wallSeconds: round(wallSeconds),
    autocannonSeconds: round(autocannonSeconds),
    latencyP50Ms: r.latency.p50,
    latencyP99Ms: r.latency.p99,
    latencyMeanMs: round(r.latency.average),
    latencyMaxMs: r.latency.max,
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    bodiesChecked: check.bodies,
    graphqlErrors: check.graphqlErrors,
    notSucceeded: check.notSucceeded,
    succeeded: check.succeeded,
    distinctTransactionIds: check.transactionIds.size,
    emulator: {
      url: stripeUrl,
      succeededIntentsNew: after.paymentIntents.filter((pi) => pi.status === 'succeeded').length - succeededBefore,
      succeededIntentsForChargedListings: succeededForCharged,
      listingsWithOneSucceededIntent: counts.filter((c) => c === 1).length,
      listingsWithMoreThanOne: counts.filter((c) => c > 1).length,
      listingsWithNone: counts.filter((c) => c === 0).length,
      intentsNotSucceeded,
      webhookDeliveriesOk: deliveries.filter((d) => typeof d.status === 'number' && d.status >= 200 && d.status < 300)
        .length,
      webhookDeliveriesFailed: deliveries.filter(
        (d) => !(typeof d.status === 'number' && d.status >= 200 && d.status < 300),
      ).length,
    },
    settle: { ms: settleMs, active },
    prepareMs,
    rssMiBAfter,
    memoryAfter,
    cpuPercent: { stack: stackCpuPercent, loadGenerator: ownCpuPercent },
  };
}

/** Problems with the charge scenario; any of them fails the run. */
function chargeProblems(c: Omit<ChargeFigures, 'listings'>): string[] {
  const p: string[] = [];
  if (c.charges !== CHARGES || c.bodiesChecked !== CHARGES)
    p.push(`${c.charges} answers (${c.bodiesChecked} bodies checked) for ${CHARGES} charges`);
  if (c.requestsBuilt !== CHARGES || c.distinctListingsSent !== CHARGES)
    p.push(`${c.requestsBuilt} requests built over ${c.distinctListingsSent} listings, expected ${CHARGES} each once`);
  if (c.non2xx || c.errors || c.timeouts)
    p.push(`${c.non2xx} non-2xx, ${c.errors} connection errors, ${c.timeouts} timeouts`);
  if (c.graphqlErrors) p.push(`${c.graphqlErrors} answers with GraphQL errors`);
  if (c.notSucceeded) p.push(`${c.notSucceeded} answers not SUCCEEDED for ${FEE.amount} ${FEE.currency}`);
  if (c.succeeded !== CHARGES || c.distinctTransactionIds !== CHARGES)
    p.push(`${c.succeeded} SUCCEEDED answers, ${c.distinctTransactionIds} distinct transactions, expected ${CHARGES}`);
  const e = c.emulator;
  if (
    e.succeededIntentsNew !== CHARGES ||
    e.succeededIntentsForChargedListings !== CHARGES ||
    e.listingsWithOneSucceededIntent !== CHARGES
  ) {
    p.push(
      `Stripe emulator: ${e.succeededIntentsNew} new succeeded PaymentIntents, ${e.listingsWithOneSucceededIntent} listings with exactly one, ${e.listingsWithMoreThanOne} with more, ${e.listingsWithNone} with none (expected ${CHARGES} / ${CHARGES} / 0 / 0)`,
    );
  }
  if (e.intentsNotSucceeded)
    p.push(`Stripe emulator: ${e.intentsNotSucceeded} PaymentIntents for the charged listings not succeeded`);
  if (c.settle.active !== CHARGES)
    p.push(`${c.settle.active}/${CHARGES} charged listings ACTIVE after ${c.settle.ms} ms`);
  return p;
}

/**
 * The Stripe emulator's base URL, from the child's banner ("stripe (local)  http://…/__emulator"),
 * which is printed just after the gateway starts answering; it must be on STRIPE_EMULATOR_PORT.
 */
async function stripeEmulatorUrl(stack: Stack, port: string): Promise<string> {
  const expected = `http://127.0.0.1:${port}`;
  for (let waited = 0; waited < 5000; waited += READY_POLL_MS) {
    for (const line of stack.output.stdout) {
      const m = /stripe \(local\)\s+(\S+)\/__emulator/.exec(line);
      if (!m) continue;
      if (m[1] !== expected)
        throw new Error(`the Stripe emulator is on ${m[1]}, expected ${expected} (STRIPE_EMULATOR_PORT)`);
      return m[1];
    }
    await sleep(READY_POLL_MS);
  }
  throw new Error(
    `no "stripe (local)" line in the stack's banner: is a STRIPE_SECRET_KEY set?\n${stack.output.stdout.join('\n')}`,
  );
}

/** The commit measured, `-dirty` with uncommitted changes (best effort). */
function gitDescribe(): string | null {
  const r = spawnSync('git', ['describe', '--always', '--dirty', '--abbrev=12'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 5000,
  });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** Lines the stack printed that are not its startup banner: pino warn/error JSON, stack traces. */
function noteworthy(output: { stdout: string[]; stderr: string[] }): string[] {
  const lines: string[] = [...output.stderr];
  for (const line of output.stdout) if (line.trimStart().startsWith('{')) lines.push(line);
  return lines;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('   ');
  return [fmt(rows[0]!), widths.map((w) => '-'.repeat(w)).join('   '), ...rows.slice(1).map(fmt)].join('\n');
}

async function main(): Promise<void> {
  if (!fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: run npm run build first`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'saypro-bench-'));
  const ports = (await freePortsFor(STACK_PORT_KEYS)) as Ports;
  const warnings: string[] = [];
  const stops: Array<{
    phase: string;
    code: number | null;
    signal: NodeJS.Signals | null;
    stopMs: number;
    killed: boolean;
  }> = [];
  try {
    // First start (cold): a new data folder. It loads the migrated template (embedded/template.ts),
    // which is made first, in a child process, when this machine has none for this code yet.
    const templateCached = fs.existsSync(templateFile());
    log(
      `first start on a new data folder ${dataDir} (template ${templateCached ? 'cached' : 'made first'}; gateway :${ports.GATEWAY_PORT}, listings :${ports.LISTINGS_PORT})`,
    );
    const cold = await startStack(dataDir, ports);
    log(`first start ready in ${cold.readyMs} ms`);
    const coldMemory = memoryOf(cold.pid);
    const coldStop = await stopStack(cold);
    stops.push({ phase: 'cold', ...coldStop });
    warnings.push(...noteworthy(cold.output).map((l) => `[cold] ${l}`));

    // Warm start: the same folder, existing database. The stack that is measured.
    log('warm start on the same folder');
    const stack = await startStack(dataDir, ports);
    log(`warm ready in ${stack.readyMs} ms`);
    const readyMemory = memoryOf(stack.pid);
    const secrets = JSON.parse(fs.readFileSync(path.join(dataDir, 'secrets.json'), 'utf8')) as {
      JWT_SECRET: string;
      INTERNAL_SECRET: string;
    };

    log(`seeding ${USERS} users and ${LISTINGS} JOBS listings through the gateway`);
    const seeded = await seed(stack, secrets);
    const seededMemory = memoryOf(stack.pid);

    const listingsPath = new URL(stack.listingsUrl).pathname;
    const signedForListings: HeadersFor = (body) => ({
      [VIEWER_HEADER]: signViewerHeader(
        { userId: null, roles: [] },
        { audience: 'listings', path: listingsPath, body },
        secrets.INTERNAL_SECRET,
        60,
      ),
    });
    const viaGateway: HeadersFor = () => ({});
    const gatewayBytes = await verifyPage(stack.gatewayUrl, viaGateway, 'gateway');
    const directBytes = await verifyPage(stack.listingsUrl, signedForListings, 'direct');

    const gateway = await load(stack.gatewayUrl, viaGateway, 'gateway', stack.pid);
    const direct = await load(stack.listingsUrl, signedForListings, 'direct', stack.pid);
    const loadedMemory = memoryOf(stack.pid);
    const stripeUrl = await stripeEmulatorUrl(stack, ports.STRIPE_EMULATOR_PORT);
    const { listings: charged, ...charges } = await chargeLoad(stack, seeded.sellers, stripeUrl);
    log(`reach: waiting for the ${charged.length} listings the charges published to reach IndexNow and GA4`);
    const reach = await publishLatency({
      gatewayUrl: stack.gatewayUrl,
      indexNowUrl: `http://127.0.0.1:${ports.INDEXNOW_EMULATOR_PORT}`,
      ga4Url: `http://127.0.0.1:${ports.GA4_EMULATOR_PORT}`,
      listings: charged,
      graphql,
      sleep,
    });
    log(`PayPal: ${PAYPAL_CHECKOUTS} checkouts (start, approve, capture), ${PAYPAL_CONCURRENCY} at a time`);
    const paypal = await paypalBench({
      gatewayUrl: stack.gatewayUrl,
      paypalUrl: `http://127.0.0.1:${ports.PAYPAL_EMULATOR_PORT}`,
      sellers: seeded.sellers,
      checkouts: PAYPAL_CHECKOUTS,
      concurrency: PAYPAL_CONCURRENCY,
      graphql,
      sleep,
    });
    log(`registering ${CRM_USERS} users, then syncing everyone to the CRM in bulk`);
    const crm = await crmBulkBench({
      gatewayUrl: stack.gatewayUrl,
      hubspotUrl: `http://127.0.0.1:${ports.HUBSPOT_EMULATOR_PORT}`,
      jwtSecret: secrets.JWT_SECRET,
      internalSecret: secrets.INTERNAL_SECRET,
      users: CRM_USERS,
      graphql,
      sleep,
    });

    const warmStop = await stopStack(stack);
    stops.push({ phase: 'warm', ...warmStop });
    warnings.push(...noteworthy(stack.output).map((l) => `[warm] ${l}`));

    const ratio = {
      requestsPerSec: round(gateway.requestsPerSec / direct.requestsPerSec),
      latencyP50: direct.latencyP50Ms > 0 ? round(gateway.latencyP50Ms / direct.latencyP50Ms) : null,
      latencyP99: direct.latencyP99Ms > 0 ? round(gateway.latencyP99Ms / direct.latencyP99Ms) : null,
    };
    const cpus = os.cpus();
    const results = {
      date: new Date().toISOString(),
      commit: gitDescribe(),
      command: 'npm run bench',
      node: process.version,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpu: { model: cpus[0]?.model ?? 'unknown', cores: cpus.length },
      totalMemoryMiB: Math.round(os.totalmem() / 1024 / 1024),
      settings: {
        connections: CONNECTIONS,
        warmupSeconds: WARMUP_SECONDS,
        measureSeconds: MEASURE_SECONDS,
        pageSize: PAGE_SIZE,
        users: USERS,
        listings: LISTINGS,
        query: PAGE_QUERY,
      },
      readyMs: { cold: cold.readyMs, warm: stack.readyMs },
      firstStart: { templateCached },
      memoryMiB: {
        coldReady: coldMemory,
        warmReady: readyMemory,
        afterSeed: seededMemory,
        afterLoad: loadedMemory,
        afterCharges: charges.memoryAfter,
      },
      seed: { users: seeded.users, listings: seeded.listings, seedMs: seeded.seedMs },
      charges: {
        ...charges,
        settings: {
          charges: CHARGES,
          connections: CONNECTIONS,
          category: 'VEHICLES',
          fee: FEE,
          paymentMethodId: 'pm_card_visa',
          mutation: CHARGE,
        },
      },
      reach,
      paypal,
      crm,
      responseBytes: { gateway: gatewayBytes, direct: directBytes },
      gateway,
      direct,
      ratioGatewayOverDirect: ratio,
      stops,
      warnings,
    };

    const dir = path.join(ROOT, 'bench/results');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'latest.json'), JSON.stringify(results, null, 2) + '\n');

    const n = (v: number | null | undefined) => (v === null || v === undefined || Number.isNaN(v) ? '-' : String(v));
    const out = [
      '',
      `SayPro Graph benchmark, ${results.date}${results.commit ? `, ${results.commit}` : ''}`,
      `node ${process.version}, ${results.cpu.model} x ${results.cpu.cores}, ${results.totalMemoryMiB} MiB RAM`,
      `query: listings(first: ${PAGE_SIZE}) with sellers; ${CONNECTIONS} connections, ${WARMUP_SECONDS} s warm-up + ${MEASURE_SECONDS} s measured`,
      '',
      table([
        [
          'target',
          'req/s',
          'p50 ms',
          'p99 ms',
          'mean ms',
          'requests',
          'non2xx',
          'errors',
          'mismatches',
          'stack CPU',
          'autocannon CPU',
        ],
        ...[
          ['gateway', gateway],
          ['listings direct', direct],
        ].map(([label, f]) => {
          const x = f as LoadFigures;
          return [
            label as string,
            n(x.requestsPerSec),
            n(x.latencyP50Ms),
            n(x.latencyP99Ms),
            n(x.latencyMeanMs),
            n(x.requestsTotal),
            n(x.non2xx),
            n(x.errors + x.timeouts),
            n(x.mismatches),
            `${x.cpuPercent.stack}%`,
            `${x.cpuPercent.loadGenerator}%`,
          ];
        }),
        [
          'gateway / direct',
          n(ratio.requestsPerSec),
          n(ratio.latencyP50),
          n(ratio.latencyP99),
          '',
          '',
          '',
          '',
          '',
          '',
          '',
        ],
        [
          'chargeListing (gateway)',
          `${n(charges.chargesPerSec)}/s`,
          n(charges.latencyP50Ms),
          n(charges.latencyP99Ms),
          n(charges.latencyMeanMs),
          n(charges.charges),
          n(charges.non2xx),
          n(charges.errors + charges.timeouts),
          n(charges.graphqlErrors + charges.notSucceeded),
          `${charges.cpuPercent.stack}%`,
          `${charges.cpuPercent.loadGenerator}%`,
        ],
      ]),
      `chargeListing: ${CHARGES} VEHICLES listings (PENDING_PAYMENT, ${USERS} sellers) prepared in ${charges.prepareMs} ms, then one charge each, ${CONNECTIONS} connections, by count (${charges.wallSeconds} s);`,
      `  answers: ${charges.succeeded} SUCCEEDED (${charges.distinctTransactionIds} distinct transactions), ${charges.graphqlErrors} with GraphQL errors, ${charges.notSucceeded} other; ${charges.distinctListingsSent} distinct listings sent`,
      `  Stripe emulator (${charges.emulator.url}/__emulator/state): ${charges.emulator.succeededIntentsNew} new succeeded PaymentIntents; ${charges.emulator.listingsWithOneSucceededIntent} listings with exactly one, ${charges.emulator.listingsWithMoreThanOne} with more, ${charges.emulator.listingsWithNone} with none; webhooks ${charges.emulator.webhookDeliveriesOk} delivered, ${charges.emulator.webhookDeliveriesFailed} failed`,
      `  all charged listings ACTIVE: ${charges.settle.active}/${CHARGES}, ${charges.settle.ms} ms after the last answer`,
      `reach: of the ${reach.listings} listings the charges published, IndexNow had every URL (${reach.indexNow.arrived}) p50 ${reach.indexNow.p50Ms} ms, p99 ${reach.indexNow.p99Ms} ms, max ${reach.indexNow.maxMs} ms after publishedAt (batch window included; ${reach.indexNow.posts} POSTs in the whole run); GA4 listing_published (${reach.ga4.arrived}) p50 ${reach.ga4.p50Ms} ms, p99 ${reach.ga4.p99Ms} ms, max ${reach.ga4.maxMs} ms`,
      `PayPal: ${paypal.succeeded}/${paypal.checkouts} checkouts SUCCEEDED in ${paypal.wallSeconds} s (${paypal.checkoutsPerSec}/s, ${paypal.concurrency} at a time; listings prepared in ${paypal.prepareMs} ms); one checkout p50 ${paypal.latencyP50Ms} ms, p99 ${paypal.latencyP99Ms} ms (start p50 ${paypal.steps.startP50Ms} ms, capture p50 ${paypal.steps.captureP50Ms} ms)`,
      `  PayPal emulator: ${paypal.emulator.ordersNew} orders, ${paypal.emulator.capturesNew} captures (${paypal.emulator.listingsWithOneCapture} listings captured once, ${paypal.emulator.listingsWithMore} more); ${paypal.emulator.tokenRequests} token request(s) (lifetime ${paypal.emulator.tokenLifetimeSeconds} s); ACTIVE ${paypal.settle.active}/${paypal.checkouts}`,
      `crm: ${crm.usersRegistered} users registered in ${crm.registerMs} ms; automatic sync had all SYNCED after ${crm.autoSyncMs} ms (${crm.autoSyncUpserts} upserts)`,
      `  syncAllUsersToCrm: ${crm.bulk.done}/${crm.bulk.total} users in ${crm.bulk.ms} ms (${crm.bulk.usersPerSec} users/s), ${crm.bulk.failed} failed; ${crm.bulk.upserts} upserts (max ${crm.bulk.maxBatch} contacts), ${crm.bulk.hubspotCallsPerPage} HubSpot calls per 100-user page, ${crm.bulk.rateLimited} 429s (limit ${crm.limits.rateLimit} per ${crm.limits.rateWindowMs} ms)`,
      `  50-listing page with seller { crmContact }: ${crm.sellerPage.hubspotCalls} HubSpot call(s), ${crm.sellerPage.hubspotBatchReads} batch read(s)`,
      '',
      table([
        ['embedded stack', 'value'],
        [
          `first start: time to ready (new data dir, template ${templateCached ? 'cached' : 'made first'})`,
          `${cold.readyMs} ms`,
        ],
        ['time to ready, warm (existing data dir)', `${stack.readyMs} ms`],
        ['first start: RSS at ready / its peak (VmHWM)', `${n(coldMemory?.rssMiB)} / ${n(coldMemory?.peakMiB)} MiB`],
        ['RSS at ready (warm)', `${n(readyMemory?.rssMiB)} MiB`],
        ['RSS after seeding', `${n(seededMemory?.rssMiB)} MiB`],
        ['RSS after the page load', `${n(loadedMemory?.rssMiB)} MiB`],
        ['RSS after the charge load', `${n(charges.rssMiBAfter)} MiB`],
        ['peak RSS of the warm process (VmHWM, after the charge load)', `${n(charges.memoryAfter?.peakMiB)} MiB`],
        ['seeding (10 users, 100 listings)', `${seeded.seedMs} ms`],
        [
          'stop (SIGTERM → exit), cold / warm',
          stops
            .map((s) => `${s.stopMs} ms, code ${s.code}${s.signal ? ` ${s.signal}` : ''}${s.killed ? ' (KILLED)' : ''}`)
            .join(' / '),
        ],
      ]),
      '',
      warnings.length
        ? `stack printed ${warnings.length} line(s) besides its banner:\n${warnings.map((w) => `  ${w}`).join('\n')}`
        : 'stack printed no warnings or errors',
      `results: ${path.relative(process.cwd(), path.join(dir, 'latest.json')) || 'bench/results/latest.json'}`,
      '',
    ];
    process.stdout.write(out.join('\n') + '\n');

    const failures: string[] = [];
    for (const [label, f] of [
      ['gateway', gateway],
      ['direct', direct],
    ] as const) {
      if (f.non2xx || f.errors || f.timeouts || f.mismatches)
        failures.push(
          `${label}: ${f.non2xx} non-2xx, ${f.errors} errors, ${f.timeouts} timeouts, ${f.mismatches} GraphQL-error bodies`,
        );
    }
    for (const p of chargeProblems(charges)) failures.push(`chargeListing: ${p}`);
    for (const p of publishLatencyProblems(reach, CHARGES)) failures.push(`reach: ${p}`);
    for (const p of paypalProblems(paypal)) failures.push(`PayPal: ${p}`);
    for (const p of crmBulkProblems(crm)) failures.push(`crm: ${p}`);
    for (const s of stops)
      if (s.code !== 0 || s.killed)
        failures.push(`${s.phase} stop: exit code ${s.code}, signal ${s.signal}${s.killed ? ', had to SIGKILL' : ''}`);
    if (failures.length) {
      process.stderr.write(`[bench] problems:\n${failures.map((f) => `  ${f}`).join('\n')}\n`);
      process.exitCode = 1;
    }
  } finally {
    // Only after a failure is a child still up: kill it and let it go before removing its folder.
    for (const child of [...running]) {
      const gone = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await Promise.race([gone, sleep(5000)]);
    }
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  process.stderr.write(`[bench] watchdog: still running after ${WATCHDOG_MS / 1000} s, giving up\n`);
  for (const child of running) child.kill('SIGKILL');
  process.exit(1);
}, WATCHDOG_MS);
watchdog.unref();

main()
  .catch((err: unknown) => {
    process.stderr.write(`[bench] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => {
    for (const child of running) child.kill('SIGKILL');
  });
