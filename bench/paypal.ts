import { randomUUID } from 'node:crypto';
import { emulatorState, percentile, type GraphQL } from './shared';

interface PayPalState {
  tokens: { lifetimeSeconds: number; tokenRequests: number; tokensIssued: number };
  orders: Array<{ id: string; status: string; purchase_units: Array<{ custom_id?: string; reference_id?: string }> }>;
  captures: Array<{ id: string; status: string; supplementary_data?: { related_ids?: { order_id?: string } } }>;
}

export interface PayPalFigures {
  checkouts: number;
  concurrency: number;
  prepareMs: number;
  wallSeconds: number;
  /** Whole checkouts (start, the payer's approval, capture) per second. */
  checkoutsPerSec: number;
  /** One checkout from start to the capture's answer, ms. */
  latencyP50Ms: number;
  latencyP99Ms: number;
  steps: { startP50Ms: number; captureP50Ms: number };
  succeeded: number;
  errors: string[];
  emulator: {
    ordersNew: number;
    capturesNew: number;
    listingsWithOneCapture: number;
    listingsWithMore: number;
    /** Token requests during the run: one per token lifetime, not one per payment. */
    tokenRequests: number;
    tokenLifetimeSeconds: number;
  };
  settle: { active: number; ms: number };
}

const CREATE = `mutation Create($input: CreateListingInput!) { createListing(input: $input) { id status } }`;
const START = `mutation Start($input: StartPayPalCheckoutInput!) { startPayPalCheckout(input: $input) { approvalUrl payment { id status providerReference } } }`;
const CAPTURE = `mutation Capture($input: CapturePayPalCheckoutInput!) { capturePayPalCheckout(input: $input) { id status listing { id status } } }`;
const STATUS = `query Status($id: ID!) { listing(id: $id) { status } }`;

const paypalState = (url: string) => emulatorState<PayPalState>(url);

/**
 * PayPal checkouts on the running embedded stack: `checkouts` PENDING_PAYMENT listings, then for
 * each, `concurrency` at a time, startPayPalCheckout through the gateway, the payer's approval (the
 * emulator's approve route, what its page's button does) and capturePayPalCheckout. Counts the
 * PayPal emulator's orders, captures and token requests afterwards: one capture per listing, and
 * token requests per token lifetime, not per payment.
 */
export async function paypalBench(options: {
  gatewayUrl: string;
  paypalUrl: string;
  sellers: Array<{ id: string; token: string }>;
  checkouts: number;
  concurrency: number;
  graphql: GraphQL;
  sleep: (ms: number) => Promise<unknown>;
}): Promise<PayPalFigures> {
  const { gatewayUrl, paypalUrl, sellers, graphql } = options;
  const t0 = performance.now();
  const listings: Array<{ id: string; token: string }> = [];
  for (let i = 0; i < options.checkouts; i++) {
    const seller = sellers[i % sellers.length]!;
    const { createListing } = await graphql<{ createListing: { id: string; status: string } }>(
      gatewayUrl,
      CREATE,
      {
        input: {
          title: `Bench van ${i + 1}`,
          description: 'A listing paid with PayPal.',
          price: { amount: 90_000, currency: 'USD' },
          category: 'VEHICLES',
          location: 'Durban',
        },
      },
      { authorization: `Bearer ${seller.token}` },
    );
    if (createListing.status !== 'PENDING_PAYMENT')
      throw new Error(`listing ${createListing.id} is ${createListing.status}, expected PENDING_PAYMENT`);
    listings.push({ id: createListing.id, token: seller.token });
  }
  const prepareMs = Math.round(performance.now() - t0);
  const before = await paypalState(paypalUrl);

  const total: number[] = [];
  const starts: number[] = [];
  const captures: number[] = [];
  const errors: string[] = [];
  let succeeded = 0;
  let next = 0;
  const wall0 = performance.now();
  const worker = async () => {
    for (let item = listings[next++]; item; item = listings[next++]) {
      const auth = { authorization: `Bearer ${item.token}` };
      try {
        const a = performance.now();
        const { startPayPalCheckout } = await graphql<{
          startPayPalCheckout: { approvalUrl: string | null; payment: { id: string; providerReference: string } };
        }>(gatewayUrl, START, { input: { listingId: item.id, idempotencyKey: `bench-${randomUUID()}` } }, auth);
        const b = performance.now();
        const approved = await fetch(
          `${paypalUrl}/__emulator/orders/${startPayPalCheckout.payment.providerReference}/approve`,
          {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: '{"funding":"balance"}',
            signal: AbortSignal.timeout(10_000),
          },
        );
        if (!approved.ok) throw new Error(`approve answered ${approved.status}`);
        const c = performance.now();
        const { capturePayPalCheckout } = await graphql<{
          capturePayPalCheckout: { status: string; listing: { status: string } };
        }>(gatewayUrl, CAPTURE, { input: { paymentId: startPayPalCheckout.payment.id } }, auth);
        const d = performance.now();
        if (capturePayPalCheckout.status === 'SUCCEEDED') succeeded++;
        else errors.push(`listing ${item.id}: capture answered ${capturePayPalCheckout.status}`);
        starts.push(b - a);
        captures.push(d - c);
        total.push(d - a);
      } catch (err) {
        errors.push(`listing ${item.id}: ${(err as Error).message.slice(0, 200)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const wallSeconds = (performance.now() - wall0) / 1000;

  const after = await paypalState(paypalUrl);
  const ours = new Set(listings.map((l) => l.id));
  const newOrders = after.orders.filter((o) => !before.orders.some((b) => b.id === o.id));
  const orderListing = new Map(newOrders.map((o) => [o.id, o.purchase_units[0]?.reference_id ?? '']));
  const capturesPerListing = new Map<string, number>();
  for (const capture of after.captures.slice(before.captures.length)) {
    const listing = orderListing.get(capture.supplementary_data?.related_ids?.order_id ?? '');
    if (listing && ours.has(listing)) capturesPerListing.set(listing, (capturesPerListing.get(listing) ?? 0) + 1);
  }

  // Every paid listing ACTIVE (the capture's answer already says so; this reads it back).
  const settle0 = performance.now();
  let active = 0;
  for (const listing of listings) {
    const { listing: read } = await graphql<{ listing: { status: string } }>(
      gatewayUrl,
      STATUS,
      { id: listing.id },
      { authorization: `Bearer ${listing.token}` },
    );
    if (read.status === 'ACTIVE') active++;
  }

  return {
    checkouts: options.checkouts,
    concurrency: options.concurrency,
    prepareMs,
    wallSeconds: Math.round(wallSeconds * 100) / 100,
    checkoutsPerSec: Math.round((succeeded / wallSeconds) * 10) / 10,
    latencyP50Ms: percentile(total, 50),
    latencyP99Ms: percentile(total, 99),
    steps: { startP50Ms: percentile(starts, 50), captureP50Ms: percentile(captures, 50) },
    succeeded,
    errors: errors.slice(0, 10),
    emulator: {
      ordersNew: newOrders.length,
      capturesNew: after.captures.length - before.captures.length,
      listingsWithOneCapture: [...capturesPerListing.values()].filter((n) => n === 1).length,
      listingsWithMore: [...capturesPerListing.values()].filter((n) => n > 1).length,
      tokenRequests: after.tokens.tokenRequests - before.tokens.tokenRequests,
      tokenLifetimeSeconds: after.tokens.lifetimeSeconds,
    },
    settle: { active, ms: Math.round(performance.now() - settle0) },
  };
}

/** What makes the PayPal scenario a failed run. */
export function paypalProblems(f: PayPalFigures): string[] {
  const p: string[] = [];
  if (f.succeeded !== f.checkouts) p.push(`${f.succeeded}/${f.checkouts} checkouts SUCCEEDED: ${f.errors.join('; ')}`);
  if (f.emulator.ordersNew !== f.checkouts)
    p.push(`${f.emulator.ordersNew} PayPal orders for ${f.checkouts} checkouts`);
  if (f.emulator.listingsWithOneCapture !== f.checkouts || f.emulator.listingsWithMore)
    p.push(
      `${f.emulator.listingsWithOneCapture} listings captured once, ${f.emulator.listingsWithMore} more than once (of ${f.checkouts})`,
    );
  // The adapter keeps its token until shortly before it expires: a run shorter than a lifetime needs at most one.
  if (f.emulator.tokenRequests > 1 + Math.floor(f.wallSeconds / f.emulator.tokenLifetimeSeconds))
    p.push(
      `${f.emulator.tokenRequests} token requests in ${f.wallSeconds} s (lifetime ${f.emulator.tokenLifetimeSeconds} s)`,
    );
  if (f.settle.active !== f.checkouts) p.push(`${f.settle.active}/${f.checkouts} paid listings ACTIVE`);
  return p;
}
