import {
  FALLBACK_SLUG,
  listingUrl,
  siteOrigin,
  siteUrlTemplateProblem,
  slugify,
  SLUG_MAX_LENGTH,
} from '../../../lib/listing-url';

const ID = '6f1c2b1e-3d4a-4b5c-8d9e-0f1a2b3c4d5e';

describe('slugify', () => {
  it.each([
    ['Red sofa, barely used!', 'red-sofa-barely-used'],
    ['  --Mountain bike <b>bargain</b>--  ', 'mountain-bike-b-bargain-b'],
    ['Crème brûlée torch à vendre', 'creme-brulee-torch-a-vendre'],
    ['Straße Ærø Łódź', 'strasse-aero-lodz'],
    ['Продам велосипед Stels', 'prodam-velosiped-stels'],
    ['Πωλείται ποδήλατο', 'poleitai-podilato'],
    ['二手自行车 出售', 'er-shou-zi-xing-che-chu-shou'],
    ['iPhone 15 Pro – 256 GB', 'iphone-15-pro-256-gb'],
    ['ＦＵＬＬ　ｗｉｄｔｈ １２３', 'full-width-123'],
    ['a_b.c/d\\e', 'a-b-c-d-e'],
  ])('%j → %j', (title, slug) => {
    expect(slugify(title)).toBe(slug);
  });

  it('is ASCII lower-case letters, digits and single inner hyphens for any title', () => {
    for (const title of [
      '😀 🚲',
      '---',
      'Ä'.repeat(200),
      'مرسيدس للبيع',
      'שלום עולם',
      '자전거 팝니다',
      'x'.repeat(500),
      'word '.repeat(40),
    ]) {
      const slug = slugify(title);
      expect(slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
      expect(slug.length).toBeLessThanOrEqual(SLUG_MAX_LENGTH);
    }
  });

  it('falls back to a fixed word when nothing transliterates', () => {
    expect(slugify('😀 🚲 !!!')).toBe(FALLBACK_SLUG);
    expect(slugify('')).toBe(FALLBACK_SLUG);
  });

  it('cuts long titles at a word boundary, and mid-word only when there is none', () => {
    const slug = slugify('Vintage leather armchair with matching footstool in excellent condition, collection only');
    expect(slug).toBe('vintage-leather-armchair-with-matching-footstool-in');
    expect(slugify('x'.repeat(100))).toBe('x'.repeat(SLUG_MAX_LENGTH));
    expect(slugify(`${'a'.repeat(SLUG_MAX_LENGTH)} b`)).toBe('a'.repeat(SLUG_MAX_LENGTH));
  });
});

describe('listingUrl', () => {
  it('fills {id} and {slug} into the template', () => {
    expect(listingUrl('https://saypro.example/listings/{id}-{slug}', { id: ID, title: 'Red sofa' })).toBe(
      `https://saypro.example/listings/${ID}-red-sofa`,
    );
    expect(listingUrl('https://saypro.example/l/{slug}/{id}?ref=graph', { id: ID, title: 'Продам диван' })).toBe(
      `https://saypro.example/l/prodam-divan/${ID}?ref=graph`,
    );
    expect(listingUrl('https://saypro.example/listings/{id}', { id: ID, title: 'ignored' })).toBe(
      `https://saypro.example/listings/${ID}`,
    );
  });

  it('gives the origin of the site for root-level files', () => {
    expect(siteOrigin('https://saypro.example:8443/listings/{id}-{slug}')).toBe('https://saypro.example:8443');
  });
});

describe('siteUrlTemplateProblem', () => {
  it.each([
    ['https://saypro.example/listings/{id}-{slug}', undefined],
    ['http://127.0.0.1:3000/listings/{id}', undefined],
    ['https://saypro.example/listings/{slug}', 'must contain {id}'],
    ['https://saypro.example/listings/{id}-{title}', 'only {id} and {slug} may appear in braces'],
    ['/listings/{id}', 'must be an absolute URL once {id} and {slug} are filled in'],
    ['ftp://saypro.example/{id}', 'must be an http or https URL'],
    ['https://{slug}.saypro.example/{id}', 'placeholders belong in the path, not the host'],
  ])('%j: %j', (template, problem) => {
    expect(siteUrlTemplateProblem(template)).toBe(problem);
  });
});
