import { ListingsPageDocument, UpdateUserDocument } from '../generated/graphql';
import { ANONYMOUS } from '../../lib/auth';
import { callSubgraph, viewerHeaderFor } from '../helpers/internal';
import { dataOf } from '../helpers/graph-client';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { eventually } from '../helpers/eventually';
import { settled } from '../helpers/settled';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let sellers: TestUser[];
let sellerIds: string[];
let listingIds: string[];

const PAGE_WITH_SELLER_LISTINGS = `
  query {
    listings(first: 50) {
      nodes {
        id
        seller { id name listingCount listings(first: 3) { nodes { id } } }
      }
    }
  }`;

async function rawQuery(url: string, query: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify({ query }),
  });
  return (await res.json()) as { data?: any; errors?: unknown[] };
}

beforeAll(async () => {
  // The CRM flusher reads users through listings too; keep it quiet so only this test's requests are counted.
  stack = await startTestStack({ POSTING_FEES: '{"JOBS":0}', CRM_FLUSH_INTERVAL_MS: '3600000' });
  sellers = await Promise.all(Array.from({ length: 10 }, (_, i) => registerUser(stack, `Seller ${i}`)));
  sellerIds = sellers.map((s) => s.id);
  listingIds = [];
  for (let i = 0; i < 60; i++)
    listingIds.push((await createListing(stack, sellers[i % 10]!, { category: 'JOBS', title: `Job ${i}` })).id);
  // Email reads each new seller and listing through listings (welcome, listing published): let it finish first.
  await eventually(
    async () => stack.sendgrid!.messages().length,
    (n) => n >= 70,
    60_000,
  );
  await stack.sendgrid!.flushWebhooks();
  // seo re-reads every new listing and its seller through listings too: no event may still be in flight.
  await settled(stack, 60_000);
}, 240_000);
afterAll(() => stack?.stop());

/** SQL the listings subgraph ran (other services share the database handle in embedded mode). */
const listingsQueries = () => stack.queries.filter((q) => q.includes('"listings".'));
const selectsFrom = (table: string) =>
  stack.queries.filter((q) => new RegExp(`^select .* from "listings"\\."${table}"`, 'i').test(q.trim()));

describe('per-request DataLoaders', () => {
  it('serves a page of 50 listings with their sellers with one query for listings and one for sellers', async () => {
    stack.queries.length = 0;
    const { listings } = dataOf(await stack.graph(ListingsPageDocument, { first: 50 }));
    expect(listings.edges).toHaveLength(50);
    expect(new Set(listings.edges.map((e) => e.node.seller.id)).size).toBe(10);
    expect(listingsQueries()).toHaveLength(2);
    expect(selectsFrom('listings')).toHaveLength(1);
    expect(selectsFrom('users')).toHaveLength(1);
  });

  it('batches nested User.listings and User.listingCount across all sellers of a page', async () => {
    stack.queries.length = 0;
    const result = await rawQuery(stack.urls.gateway, PAGE_WITH_SELLER_LISTINGS);
    expect(result.errors).toBeUndefined();
    expect(result.data.listings.nodes).toHaveLength(50);
    for (const node of result.data.listings.nodes) {
      expect(node.seller.listingCount).toBe(6);
      expect(node.seller.listings.nodes).toHaveLength(3);
    }
    // listings page, sellers, sellers' first pages (one window query), counts (one GROUP BY)
    expect(listingsQueries()).toHaveLength(4);
  });

  it('resolves 50 Listing and 10 User entity references with one query each', async () => {
    const reps = (typename: string, ids: string[]) =>
      ids.map((id) => `{ __typename: "${typename}", id: "${id}" }`).join(', ');
    stack.queries.length = 0;
    const url = stack.urls.subgraphs.listings!;
    const { body: result } = await callSubgraph(
      url,
      `{ _entities(representations: [${reps('Listing', listingIds.slice(0, 50))}, ${reps('User', sellerIds)}]) {
          ... on Listing { id title } ... on User { id name } } }`,
      (body) => viewerHeaderFor(ANONYMOUS, url, body, stack.config.INTERNAL_SECRET),
    );
    expect(result.errors).toBeUndefined();
    expect(result.data._entities).toHaveLength(60);
    expect(result.data._entities.slice(0, 50).map((e: { id: string }) => e.id)).toEqual(listingIds.slice(0, 50));
    expect(listingsQueries()).toHaveLength(2);
  });

  it('keeps nothing between requests: a change is visible to the very next request', async () => {
    const first = dataOf(await stack.graph(ListingsPageDocument, { first: 1 })).listings.edges[0]!.node.seller;
    const seller = sellers.find((s) => s.id === first.id)!;
    dataOf(
      await stack.graph(
        UpdateUserDocument,
        { id: seller.id, input: { name: `${first.name} (renamed)` } },
        { token: seller.token },
      ),
    );
    const again = dataOf(await stack.graph(ListingsPageDocument, { first: 1 })).listings.edges[0]!.node.seller;
    expect(again.name).toBe(`${first.name} (renamed)`);
  });
});
