import fs from 'node:fs';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  Kind,
  parse,
  print,
  type DefinitionNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
} from 'graphql';
import { loadConfig } from '../../lib/config';
import { projectRoot } from '../../lib/data-dir';
import { limitsFromConfig } from '../../gateway/limits/limits-config';
import { ChargeListingDocument, ListingPaymentDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { startBareGateway } from '../helpers/bare-gateway';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

/**
 * Both engines behind the same front door, over the same subgraphs: the stack's own gateway and a
 * second one on the other engine, answering the same requests. Every query document the suite
 * uses (test/operations) and a set of refusals must come back byte for byte the same, status and
 * body. (The whole suite also runs on each engine: GATEWAY_ENGINE=hive in .ci/run.)
 */
let stack: TestStack;
let other: Awaited<ReturnType<typeof startBareGateway>>;
let seller: TestUser;
let buyer: TestUser;
let admin: TestUser;
let listingId: string;

type Variables = Record<string, unknown>;
const operationsDir = path.join(projectRoot(), 'test/operations');
const definitions: DefinitionNode[] = fs
  .readdirSync(operationsDir)
  .filter((f) => f.endsWith('.graphql'))
  .flatMap((f) => parse(fs.readFileSync(path.join(operationsDir, f), 'utf8')).definitions);
const fragments = definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION);
const queries = definitions.filter(
  (d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION && d.operation === 'query',
);

/** The query with the fragments it spreads (transitively), as a client would send it. */
function documentText(operation: OperationDefinitionNode): string {
  const needed = new Map<string, FragmentDefinitionNode>();
  const visit = (text: string) => {
    for (const fragment of fragments) {
      if (!needed.has(fragment.name.value) && new RegExp(`\\.\\.\\.${fragment.name.value}\\b`).test(text)) {
        needed.set(fragment.name.value, fragment);
        visit(print(fragment));
      }
    }
  };
  const text = print(operation);
  visit(text);
  return [text, ...[...needed.values()].map((f) => print(f))].join('\n\n');
}

async function answerOf(url: string, body: unknown, token?: string) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.text() };
}

/** Both gateways' answers to one request, the stack's engine first. */
async function bothAnswer(body: unknown, token?: string) {
  const [ours, theirs] = await Promise.all([
    answerOf(stack.urls.gateway, body, token),
    answerOf(other.url, body, token),
  ]);
  return { ours, theirs };
}

beforeAll(async () => {
  stack = await startTestStack();
  other = await startBareGateway({
    engine: stack.gateway.engine.name === 'apollo' ? 'hive' : 'apollo',
    subgraphUrls: stack.urls.subgraphs,
    jwt: { secret: stack.config.JWT_SECRET },
    internalSecret: stack.config.INTERNAL_SECRET,
    internalTokenTtlSeconds: stack.config.INTERNAL_TOKEN_TTL_SECONDS,
    development: true,
    limits: limitsFromConfig(
      loadConfig({ NODE_ENV: 'test', RATE_LIMIT_PER_IP: '100000', RATE_LIMIT_PER_VIEWER: '100000' }),
    ),
  });
  seller = await registerUser(stack, 'Parity Seller');
  buyer = await registerUser(stack, 'Parity Buyer');
  admin = await registerUser(stack, 'Parity Admin', ['admin']);
  const listing = await createListing(stack, seller);
  listingId = listing.id;
  dataOf(
    await stack.graph(
      ChargeListingDocument,
      { input: { listingId, paymentMethodId: 'pm_card_visa', idempotencyKey: randomUUID() } },
      { token: seller.token },
    ),
  );
  // Compared once it settled: both gateways must see the same state.
  const settled = await eventually(
    async () => dataOf(await stack.graph(ListingPaymentDocument, { id: listingId }, { token: seller.token })).listing,
    (l) => l?.status === 'ACTIVE',
  );
  expect(settled?.status).toBe('ACTIVE');
}, 60_000);

afterAll(async () => {
  await other?.stop();
  await stack?.stop();
});

describe('the apollo and hive engines', () => {
  it('run behind the stack and the second gateway, one each', () => {
    expect(new Set([stack.gateway.engine.name, other.gateway.engine.name])).toEqual(new Set(['apollo', 'hive']));
    expect(queries.length).toBeGreaterThanOrEqual(15);
  });

  it('answer every query document of the suite alike, for anonymous callers, users and admins', async () => {
    const variablesFor = (name: string): Variables =>
      ({
        CrmContact: { userId: seller.id },
        SellersCrm: { first: 5 },
        CrmFailedSyncs: { first: 5 },
        CrmSyncJob: { id: randomUUID() },
        EmailMessage: { id: randomUUID() },
        UserEmails: { id: seller.id, first: 5 },
        Campaign: { id: randomUUID() },
        Listing: { id: listingId },
        ListingsPage: { first: 10 },
        ListingsCount: {},
        Transaction: { id: randomUUID() },
        ListingPayment: { id: listingId },
        MyPayments: { first: 5 },
        ListingsPaymentStatus: { first: 10 },
        SellersPayments: { first: 10 },
        User: { id: seller.id },
        Users: { first: 5 },
        DeadEvents: { first: 5 },
      })[name] ?? {};
    const compared: string[] = [];
    for (const operation of queries) {
      const name = operation.name!.value;
      const body = { query: documentText(operation), operationName: name, variables: variablesFor(name) };
      for (const [who, token] of [
        ['anonymous', undefined],
        ['seller', seller.token],
        ['buyer', buyer.token],
        ['admin', admin.token],
      ] as const) {
        const { ours, theirs } = await bothAnswer(body, token);
        expect({ operation: name, who, ...theirs }).toEqual({ operation: name, who, ...ours });
        compared.push(`${name}:${who}:${ours.status}`);
      }
    }
    // the comparison covered answers with data and refusals alike
    expect(compared.some((c) => c.endsWith(':200'))).toBe(true);
    expect(compared.length).toBe(queries.length * 4);
  });

  it('refuse bad documents, variables and mutations alike', async () => {
    const cases: Array<[unknown, string?]> = [
      [{ query: '{ viewer { nmae } }' }, seller.token],
      [{ query: '{ listing(id: 1, extra: 2) { id } }' }],
      [{ query: 'query Q($n: Int!) { listings(first: $n) { totalCount } }', variables: { n: 'ten' } }],
      [{ query: 'query Q($n: Int!) { listings(first: $n) { totalCount } }' }],
      [{ query: `{ listing(id: "${randomUUID()}") { id title } }` }],
      [{ query: `mutation { withdrawListing(id: "${listingId}") { id } }` }, buyer.token],
      [{ query: `mutation { withdrawListing(id: "${listingId}") { id } }` }],
      [
        {
          query: 'mutation M($i: SendEmailInput!) { sendEmail(input: $i) { id } }',
          variables: { i: { userId: seller.id, template: 'PROMOTION', data: 'not an object' } },
        },
        admin.token,
      ],
      [
        {
          query: 'mutation M($i: SendEmailInput!) { sendEmail(input: $i) { id } }',
          variables: { i: { userId: seller.id, template: 'NEWSLETTER' } },
        },
        admin.token,
      ],
      [{ query: `{ user(id: "${seller.id}") { id crmContact { hubspotId } } }` }, buyer.token],
      [{ query: '{ a: viewer { id } b: viewer { id } }' }, seller.token],
      [{ query: 'query { __typename }', operationName: 'Nope' }],
    ];
    for (const [body, token] of cases) {
      const { ours, theirs } = await bothAnswer(body, token);
      expect({ request: body, ...theirs }).toEqual({ request: body, ...ours });
    }
  });
});
