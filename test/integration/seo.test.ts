import { ListingSeoDocument, UpdateListingDocument, WithdrawListingDocument } from '../generated/graphql';
import { eventually } from '../helpers/eventually';
import { createListing, registerUser, type TestUser } from '../helpers/fixtures';
import { dataOf } from '../helpers/graph-client';
import { startTestStack, type TestStack } from '../helpers/stack';

let stack: TestStack;
let seller: TestUser;

beforeAll(async () => {
  stack = await startTestStack({ POSTING_FEES: '{"JOBS":0}', SITE_URL: 'https://saypro.example/listings/{id}-{slug}' });
  seller = await registerUser(stack, 'Olga Sellers');
}, 120_000);
afterAll(() => stack?.stop());

type Offer = { price: string; priceCurrency: string; availability: string; url: string; seller?: { '@type': string; name: string } };
const seoOf = async (id: string) => dataOf(await stack.graph(ListingSeoDocument, { id }, { token: seller.token })).listing;
const offerOf = (listing: Awaited<ReturnType<typeof seoOf>>) => (listing.structuredData?.offers ?? null) as Offer | null;
const pageOf = async (id: string) => (await stack.seo.seo.byListingIds([id]))[0]!;

describe('Listing.url and Listing.structuredData through the gateway', () => {
  it('follows a listing through publish, edit, withdrawal', async () => {
    const created = await createListing(stack, seller, { category: 'JOBS', title: 'Бариста в кофейню', price: { amount: 120_000, currency: 'USD' } });
    expect(created.status).toBe('ACTIVE');

    const published = await eventually(() => seoOf(created.id), (l) => offerOf(l)?.availability === 'https://schema.org/InStock');
    expect(published.url).toBe(`https://saypro.example/listings/${created.id}-barista-v-kofeynyu`);
    expect(published.structuredData).toMatchObject({ '@context': 'https://schema.org', '@type': 'Product', name: 'Бариста в кофейню', url: published.url });
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
    dataOf(await stack.graph(UpdateListingDocument, { id: created.id, input: { title: 'Barista wanted', price: { amount: 130_000, currency: 'USD' } } }, { token: seller.token }));
    const edited = await eventually(() => seoOf(created.id), (l) => offerOf(l)?.price === '1300.00');
    expect(edited.url).toBe(`https://saypro.example/listings/${created.id}-barista-wanted`);
    expect(offerOf(edited)!.url).toBe(edited.url);
    const editedPage = await pageOf(created.id);
    expect(editedPage!.contentChangedAt.getTime()).toBeGreaterThan(firstPage!.contentChangedAt.getTime());

    // Withdrawal changes availability, not the content (lastmod stays).
    dataOf(await stack.graph(WithdrawListingDocument, { id: created.id }, { token: seller.token }));
    const withdrawn = await eventually(() => seoOf(created.id), (l) => offerOf(l)?.availability === 'https://schema.org/SoldOut');
    expect(withdrawn.status).toBe('WITHDRAWN');
    const withdrawnPage = await pageOf(created.id);
    expect(withdrawnPage!.status).toBe('WITHDRAWN');
    expect(withdrawnPage!.contentChangedAt).toEqual(editedPage!.contentChangedAt);
    expect(withdrawnPage!.contentHash).toBe(editedPage!.contentHash);
  });

  it('marks an expired listing Discontinued', async () => {
    const created = await createListing(stack, seller, { category: 'JOBS', title: 'Night porter' });
    await eventually(() => seoOf(created.id), (l) => offerOf(l)?.availability === 'https://schema.org/InStock');
    expect(await stack.listings.listings.expireDue(new Date(Date.now() + 400 * 86_400_000))).toBeGreaterThanOrEqual(1);
    const expired = await eventually(() => seoOf(created.id), (l) => offerOf(l)?.availability === 'https://schema.org/Discontinued');
    expect(expired.status).toBe('EXPIRED');
  });

  it('has no structured data for a listing that was never public', async () => {
    const pending = await createListing(stack, seller, { category: 'VEHICLES', title: 'Unpaid car' });
    expect(pending.status).toBe('PENDING_PAYMENT');
    // The seo service has seen its creation event, and still shows nothing for it.
    const page = await eventually(() => pageOf(pending.id), (p) => p !== null);
    expect(page!.status).toBe('PENDING_PAYMENT');
    expect((await seoOf(pending.id)).structuredData).toBeNull();
  });
});
