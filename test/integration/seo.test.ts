import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  ListingSeoDocument,
  UpdateListingDocument,
  UpdateUserDocument,
  WithdrawListingDocument,
} from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { settled } from '../helpers/settled';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let seller: TestUser;
const SITEMAP_BASE = 'https://api.saypro.example';

beforeAll(async () => {
  stack = await startTestStack({
    POSTING_FEES: '{"JOBS":0}',
    SITE_URL: 'https://saypro.example/listings/{id}-{slug}',
    SITEMAP_BASE_URL: SITEMAP_BASE,
    SITEMAP_SHARD_SIZE: '2',
  });
  seller = await registerUser(stack, 'Olga Sellers');
}, 120_000);
afterAll(() => stack?.stop());

type Offer = {
  price: string;
  priceCurrency: string;
  availability: string;
  url: string;
  seller?: { '@type': string; name: string };
};
const seoOf = async (id: string) =>
  dataOf(await stack.graph(ListingSeoDocument, { id }, { token: seller.token })).listing;
const offerOf = (listing: Awaited<ReturnType<typeof seoOf>>) =>
  (listing.structuredData?.offers ?? null) as Offer | null;
const pageOf = async (id: string) => (await stack.seo.seo.byListingIds([id]))[0]!;

describe('Listing.url and Listing.structuredData through the gateway', () => {
  it('follows a listing through publish, edit, withdrawal', async () => {
    const created = await createListing(stack, seller, {
      category: 'JOBS',
      title: 'Бариста в кофейню',
      price: { amount: 120_000, currency: 'USD' },
    });
    expect(created.status).toBe('ACTIVE');

    const published = await eventually(
      () => seoOf(created.id),
      (l) => offerOf(l)?.availability === 'https://schema.org/InStock',
    );
    expect(published.url).toBe(`https://saypro.example/listings/${created.id}-barista-v-kofeynyu`);
    expect(published.structuredData).toMatchObject({
      '@context': 'https://schema.org',
      '@type': 'Product',
      name: 'Бариста в кофейню',
      url: published.url,
    });
    expect(offerOf(published)).toEqual({
      '@type': 'Offer',
      url: published.url,
      price: '1200.00',
      priceCurrency: 'USD',
      availability: 'https://schema.org/InStock',
      seller: { '@type': 'Person', name: 'Olga Sellers' },
    });
    const firstPage = await pageOf(created.id);

    // An edit of public fields: new price, new slug, a later lastmod.
    dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: created.id, input: { title: 'Barista wanted', price: { amount: 130_000, currency: 'USD' } } },
        { token: seller.token },
      ),
    );
    const edited = await eventually(
      () => seoOf(created.id),
      (l) => offerOf(l)?.price === '1300.00',
    );
    expect(edited.url).toBe(`https://saypro.example/listings/${created.id}-barista-wanted`);
    expect(offerOf(edited)!.url).toBe(edited.url);
    const editedPage = await pageOf(created.id);
    expect(editedPage!.contentChangedAt.getTime()).toBeGreaterThan(firstPage!.contentChangedAt.getTime());

    // Withdrawal changes availability, not the content (lastmod stays).
    dataOf(await stack.graph(WithdrawListingDocument, { id: created.id }, { token: seller.token }));
    const withdrawn = await eventually(
      () => seoOf(created.id),
      (l) => offerOf(l)?.availability === 'https://schema.org/SoldOut',
    );
    expect(withdrawn.status).toBe('WITHDRAWN');
    const withdrawnPage = await pageOf(created.id);
    expect(withdrawnPage!.status).toBe('WITHDRAWN');
    expect(withdrawnPage!.contentChangedAt).toEqual(editedPage!.contentChangedAt);
    expect(withdrawnPage!.contentHash).toBe(editedPage!.contentHash);
  });

  it('marks an expired listing Discontinued', async () => {
    const created = await createListing(stack, seller, { category: 'JOBS', title: 'Night porter' });
    await eventually(
      () => seoOf(created.id),
      (l) => offerOf(l)?.availability === 'https://schema.org/InStock',
    );
    expect(await stack.listings.listings.expireDue(new Date(Date.now() + 400 * 86_400_000))).toBeGreaterThanOrEqual(1);
    const expired = await eventually(
      () => seoOf(created.id),
      (l) => offerOf(l)?.availability === 'https://schema.org/Discontinued',
    );
    expect(expired.status).toBe('EXPIRED');
  });

  it('has no structured data for a listing that was never public', async () => {
    const pending = await createListing(stack, seller, { category: 'VEHICLES', title: 'Unpaid car' });
    expect(pending.status).toBe('PENDING_PAYMENT');
    // The seo service has seen its creation event, and still shows nothing for it.
    const page = await eventually(
      () => pageOf(pending.id),
      (p) => p !== null,
    );
    expect(page!.status).toBe('PENDING_PAYMENT');
    expect((await seoOf(pending.id)).structuredData).toBeNull();
  });
});

describe('the sitemap through the gateway', () => {
  const parser = new XMLParser({
    ignoreAttributes: false,
    parseTagValue: false,
    isArray: (name) => name === 'url' || name === 'sitemap',
  });
  const W3C_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
  /** GET through the gateway; a URL the index lists is fetched at its path on the gateway. */
  const get = async (pathOrUrl: string, init: RequestInit = {}) =>
    fetch(new URL(new URL(pathOrUrl, SITEMAP_BASE).pathname, stack.urls.gateway), init);

  /** Reads the index and every shard, checking each file against the sitemap protocol's rules as it goes. */
  async function readSitemap(): Promise<{ shards: string[]; urls: Map<string, string> }> {
    const index = await get('/sitemap.xml');
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toBe('application/xml; charset=utf-8');
    const indexXml = await index.text();
    expect(XMLValidator.validate(indexXml)).toBe(true);
    const { sitemapindex } = parser.parse(indexXml) as {
      sitemapindex: { '@_xmlns': string; sitemap: Array<{ loc: string; lastmod?: string }> };
    };
    expect(sitemapindex['@_xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    expect(sitemapindex.sitemap.length).toBeLessThanOrEqual(50_000);
    const urls = new Map<string, string>();
    for (const [i, entry] of sitemapindex.sitemap.entries()) {
      expect(entry.loc).toBe(`${SITEMAP_BASE}/sitemaps/listings-${i + 1}.xml`);
      const shard = await get(entry.loc);
      expect(shard.status).toBe(200);
      expect(shard.headers.get('content-type')).toBe('application/xml; charset=utf-8');
      const xml = await shard.text();
      expect(XMLValidator.validate(xml)).toBe(true);
      const { urlset } = parser.parse(xml) as {
        urlset: { '@_xmlns': string; url?: Array<{ loc: string; lastmod: string }> };
      };
      expect(urlset['@_xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
      const entries = urlset.url ?? [];
      expect(entries.length).toBeLessThanOrEqual(2); // SITEMAP_SHARD_SIZE
      for (const url of entries) {
        expect(url.loc).toMatch(/^https:\/\/saypro\.example\/listings\//);
        expect(url.loc.length).toBeLessThan(2048);
        expect(url.lastmod).toMatch(W3C_DATETIME);
        expect(urls.has(url.loc)).toBe(false);
        urls.set(url.loc, url.lastmod);
      }
      // The shard's lastmod in the index is its newest URL's.
      if (entries.length)
        expect(entry.lastmod).toBe(
          entries
            .map((u) => u.lastmod)
            .sort()
            .at(-1),
        );
    }
    return { shards: sitemapindex.sitemap.map((s) => s.loc), urls };
  }

  it('lists ACTIVE listings only, in shards, with a lastmod that moves with public content alone', async () => {
    const created: Array<Awaited<ReturnType<typeof createListing>>> = [];
    for (const title of ['Cook & helper', 'Gardener <weekends>', "Driver 'C1'", 'Tutor', 'Nanny'])
      created.push(await createListing(stack, seller, { category: 'JOBS', title }));
    const live = await Promise.all(
      created.map((l) =>
        eventually(
          () => seoOf(l.id),
          (s) => offerOf(s)?.availability === 'https://schema.org/InStock',
        ),
      ),
    );
    dataOf(await stack.graph(WithdrawListingDocument, { id: created[4]!.id }, { token: seller.token }));
    await eventually(
      () => pageOf(created[4]!.id),
      (p) => p?.status === 'WITHDRAWN',
    );
    // The index and each shard are separate reads: with no event in flight, they describe one state.
    await settled(stack);

    const before = await readSitemap();
    // The four still ACTIVE (the earlier tests' listings are withdrawn, expired or unpaid), two per shard.
    expect([...before.urls.keys()].sort()).toEqual(
      live
        .slice(0, 4)
        .map((l) => l.url)
        .sort(),
    );
    expect(before.shards).toHaveLength(2);
    expect((await get('/sitemaps/listings-3.xml')).status).toBe(404);
    expect((await get('/sitemap.xml', { method: 'POST' })).status).toBe(405);

    // A change of location is public content: that URL's lastmod moves, no other's does.
    dataOf(
      await stack.graph(
        UpdateListingDocument,
        { id: created[1]!.id, input: { location: 'Durban' } },
        { token: seller.token },
      ),
    );
    const edited = await eventually(
      () => pageOf(created[1]!.id),
      (p) => p?.content.location === 'Durban',
    );
    expect(edited!.content.location).toBe('Durban');
    await settled(stack);
    const moved = await readSitemap();
    expect(moved.urls.get(live[1]!.url)! > before.urls.get(live[1]!.url)!).toBe(true);
    for (const l of [live[0]!, live[2]!, live[3]!]) expect(moved.urls.get(l.url)).toBe(before.urls.get(l.url));
  });

  it('pages a shard by keyset: a page of one row reads the same URLs as one page of all', async () => {
    const collect = async (shard: number, size: number, batch: number) => {
      const out: string[] = [];
      for await (const entry of stack.seo.seo.sitemapUrls(shard, size, batch)) out.push(entry.url);
      return out;
    };
    const whole = await collect(1, 10, 1000);
    expect(whole.length).toBe(4);
    expect(await collect(1, 10, 1)).toEqual(whole);
    expect([...(await collect(1, 3, 2)), ...(await collect(2, 3, 2))]).toEqual(whole);
    expect(await collect(3, 2, 1)).toEqual([]);
  });
});

describe('a seller renamed', () => {
  it('moves the seller name in the JSON-LD of every one of their pages, and their lastmod', async () => {
    const renamed = await registerUser(stack, 'Pieter Old');
    const mine = [
      await createListing(stack, renamed, { category: 'JOBS', title: 'Painter' }),
      await createListing(stack, renamed, { category: 'JOBS', title: 'Plasterer' }),
    ];
    const named = (id: string, name: string) =>
      eventually(
        async () => dataOf(await stack.graph(ListingSeoDocument, { id }, { token: renamed.token })).listing,
        (l) => offerOf(l)?.seller?.name === name,
      );
    const olgas = await createListing(stack, seller, { category: 'JOBS', title: 'Roofer' });
    for (const l of mine) expect(offerOf(await named(l.id, 'Pieter Old'))?.seller?.name).toBe('Pieter Old');
    await settled(stack);
    const before = await Promise.all(mine.map((l) => pageOf(l.id)));
    const olgasBefore = await pageOf(olgas.id);
    dataOf(
      await stack.graph(
        UpdateUserDocument,
        { id: renamed.id, input: { name: 'Pieter New' } },
        { token: renamed.token },
      ),
    );
    for (const l of mine) expect(offerOf(await named(l.id, 'Pieter New'))?.seller?.name).toBe('Pieter New');
    const after = await Promise.all(mine.map((l) => pageOf(l.id)));
    after.forEach((page, i) => {
      expect(page!.content.sellerName).toBe('Pieter New');
      expect(page!.contentChangedAt.getTime()).toBeGreaterThan(before[i]!.contentChangedAt.getTime());
    });
    // Another seller's page is untouched.
    expect((await pageOf(olgas.id))!.contentChangedAt).toEqual(olgasBefore!.contentChangedAt);
  });
});
