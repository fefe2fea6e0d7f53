import { publicContentHash, type PublicListing } from '../../../../subgraphs/seo/domain/public-listing';
import { availabilityOf, structuredDataOf, type JsonLd } from '../../../../subgraphs/seo/domain/structured-data';

/** schema.org's ItemAvailability members (https://schema.org/ItemAvailability). */
const ITEM_AVAILABILITY = new Set(
  [
    'BackOrder',
    'Discontinued',
    'InStock',
    'InStoreOnly',
    'LimitedAvailability',
    'MadeToOrder',
    'OnlineOnly',
    'OutOfStock',
    'PreOrder',
    'PreSale',
    'Reserved',
    'SoldOut',
  ].map((m) => `https://schema.org/${m}`),
);

/**
 * The checkable rules of Google's product snippet markup (developers.google.com/search/docs/
 * appearance/structured-data/product-snippet) and schema.org's types: Product needs a name and one
 * of offers, review or aggregateRating; an Offer's price is a number with a '.' separator and no
 * symbol, priceCurrency a three-letter ISO 4217 code, availability an ItemAvailability URL; a
 * seller is a Person or Organization with a name; URLs are absolute.
 */
function productSnippetProblems(doc: JsonLd): string[] {
  const problems: string[] = [];
  const isAbsoluteUrl = (v: unknown) => typeof v === 'string' && /^https?:\/\/[^\s]+$/.test(v);
  if (doc['@context'] !== 'https://schema.org') problems.push('@context must be https://schema.org');
  if (doc['@type'] !== 'Product') problems.push('@type must be Product');
  if (typeof doc.name !== 'string' || !doc.name.trim()) problems.push('Product.name is required');
  if (!doc.offers && !doc.review && !doc.aggregateRating)
    problems.push('Product needs offers, review or aggregateRating');
  if (doc.url !== undefined && !isAbsoluteUrl(doc.url)) problems.push('Product.url must be absolute');
  const offers = (Array.isArray(doc.offers) ? doc.offers : [doc.offers]).filter(Boolean) as JsonLd[];
  for (const offer of offers) {
    if (offer['@type'] !== 'Offer') problems.push('offers must be Offer');
    if (typeof offer.price !== 'string' || !/^\d+(\.\d+)?$/.test(offer.price))
      problems.push(`Offer.price ${String(offer.price)} is not a plain decimal`);
    if (typeof offer.priceCurrency !== 'string' || !/^[A-Z]{3}$/.test(offer.priceCurrency))
      problems.push('Offer.priceCurrency must be ISO 4217');
    if (offer.availability !== undefined && !ITEM_AVAILABILITY.has(offer.availability as string))
      problems.push(`Offer.availability ${String(offer.availability)} is not an ItemAvailability`);
    if (offer.url !== undefined && !isAbsoluteUrl(offer.url)) problems.push('Offer.url must be absolute');
    const seller = offer.seller as JsonLd | undefined;
    if (
      seller &&
      (!['Person', 'Organization'].includes(seller['@type'] as string) ||
        typeof seller.name !== 'string' ||
        !seller.name)
    )
      problems.push('Offer.seller must be a named Person or Organization');
  }
  const walk = (v: unknown): void => {
    if (v === undefined || (typeof v === 'number' && !Number.isFinite(v))) problems.push('a value is not JSON');
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  walk(doc);
  return problems;
}

const listing: PublicListing = {
  id: '6f1c2b1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e',
  url: 'https://saypro.example/listings/6f1c2b1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e-red-sofa',
  title: 'Red sofa',
  description: 'Three seats, </script> in the text.',
  price: { amount: 25_050, currency: 'USD' },
  category: 'HOME',
  location: 'Cape Town',
  sellerName: 'Ada',
};

describe('structuredDataOf', () => {
  it('is a Product with one Offer that passes the product snippet rules', () => {
    const doc = structuredDataOf(listing, 'ACTIVE')!;
    expect(productSnippetProblems(doc)).toEqual([]);
    expect(doc).toEqual({
      '@context': 'https://schema.org',
      '@type': 'Product',
      '@id': `${listing.url}#product`,
      name: 'Red sofa',
      description: 'Three seats, </script> in the text.',
      url: listing.url,
      category: 'HOME',
      offers: {
        '@type': 'Offer',
        url: listing.url,
        price: '250.50',
        priceCurrency: 'USD',
        availability: 'https://schema.org/InStock',
        seller: { '@type': 'Person', name: 'Ada' },
      },
    });
  });

  it.each([
    ['ACTIVE', 'https://schema.org/InStock'],
    ['WITHDRAWN', 'https://schema.org/SoldOut'],
    ['EXPIRED', 'https://schema.org/Discontinued'],
  ])('availability of %s is %s', (status, availability) => {
    const doc = structuredDataOf(listing, status)!;
    expect((doc.offers as JsonLd).availability).toBe(availability);
    expect(productSnippetProblems(doc)).toEqual([]);
  });

  it('is null for a listing that was never public', () => {
    expect(structuredDataOf(listing, 'DRAFT')).toBeNull();
    expect(structuredDataOf(listing, 'PENDING_PAYMENT')).toBeNull();
    expect(availabilityOf('UNKNOWN')).toBeUndefined();
  });

  it.each([
    [{ amount: 1500, currency: 'JPY' }, '1500'],
    [{ amount: 1234, currency: 'KWD' }, '1.234'],
    [{ amount: 0, currency: 'EUR' }, '0.00'],
    [{ amount: 5, currency: 'HUF' }, '0.05'],
  ])('prices %j as %s (the currency’s ISO 4217 exponent)', (price, decimal) => {
    const doc = structuredDataOf({ ...listing, price }, 'ACTIVE')!;
    expect((doc.offers as JsonLd).price).toBe(decimal);
    expect(productSnippetProblems(doc)).toEqual([]);
  });

  it('leaves the seller out when listings gave no name', () => {
    const offers = structuredDataOf({ ...listing, sellerName: null }, 'ACTIVE')!.offers as JsonLd;
    expect(offers).not.toHaveProperty('seller');
  });

  it('the checker refuses what Google would refuse (it can fail)', () => {
    const good = structuredDataOf(listing, 'ACTIVE')!;
    expect(productSnippetProblems({ ...good, name: '' })).toEqual(['Product.name is required']);
    const { offers: _offers, ...withoutOffers } = good;
    expect(productSnippetProblems(withoutOffers)).toEqual(['Product needs offers, review or aggregateRating']);
    expect(productSnippetProblems({ ...good, description: undefined })).toEqual(['a value is not JSON']);
    expect(
      productSnippetProblems({
        ...good,
        offers: { ...(good.offers as JsonLd), price: '$250', priceCurrency: 'usd', availability: 'InStock' },
      }),
    ).toEqual([
      'Offer.price $250 is not a plain decimal',
      'Offer.priceCurrency must be ISO 4217',
      'Offer.availability InStock is not an ItemAvailability',
    ]);
  });
});

describe('publicContentHash', () => {
  it('changes with every public field and only with them', () => {
    const base = publicContentHash(listing);
    expect(publicContentHash({ ...listing })).toBe(base);
    const changes: Array<Partial<PublicListing>> = [
      { title: 'Blue sofa' },
      { description: 'Two seats.' },
      { price: { amount: 25_051, currency: 'USD' } },
      { price: { amount: 25_050, currency: 'EUR' } },
      { category: 'OTHER' },
      { location: 'Durban' },
      { sellerName: 'Ada L.' },
      { url: `${listing.url}-x` },
    ];
    const hashes = changes.map((c) => publicContentHash({ ...listing, ...c }));
    expect(new Set([base, ...hashes]).size).toBe(changes.length + 1);
    // A field that is not public (status, timestamps) does not reach the hash.
    expect(publicContentHash({ ...listing, ...({ status: 'WITHDRAWN', updatedAt: new Date() } as object) })).toBe(base);
  });
});
