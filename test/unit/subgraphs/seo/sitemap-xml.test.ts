import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { shardOf, shardPath } from '../../../../lib/sitemap-paths';
import {
  escapeXml,
  INDEX_CLOSE,
  INDEX_OPEN,
  sitemapEntry,
  urlEntry,
  URLSET_CLOSE,
  URLSET_OPEN,
} from '../../../../subgraphs/seo/domain/sitemap-xml';

const parser = new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'url' || name === 'sitemap' });

describe('sitemap XML', () => {
  it('escapes the five characters the protocol names', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
  });

  it('writes a urlset that parses back to the same locations', () => {
    const locs = [
      'https://saypro.example/listings/1-a?x=1&y=2',
      "https://saypro.example/listings/2-o'neil",
      'https://saypro.example/listings/3-<b>',
    ];
    const xml =
      URLSET_OPEN + locs.map((l) => urlEntry(l, new Date('2026-12-04T01:02:03.456Z'))).join('') + URLSET_CLOSE;
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml) as { urlset: { '@_xmlns': string; url: Array<{ loc: string; lastmod: string }> } };
    expect(doc.urlset['@_xmlns']).toBe('http://www.sitemaps.org/schemas/sitemap/0.9');
    expect(doc.urlset.url.map((u) => u.loc)).toEqual(locs);
    expect(doc.urlset.url[0]!.lastmod).toBe('2026-12-04T01:02:03.456Z');
  });

  it('writes an index, lastmod only where the shard has URLs', () => {
    const xml =
      INDEX_OPEN +
      sitemapEntry('https://api.example/sitemaps/listings-1.xml', new Date('2026-01-02T00:00:00Z')) +
      sitemapEntry('https://api.example/sitemaps/listings-2.xml', null) +
      INDEX_CLOSE;
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = parser.parse(xml) as { sitemapindex: { sitemap: Array<{ loc: string; lastmod?: string }> } };
    expect(doc.sitemapindex.sitemap).toEqual([
      { loc: 'https://api.example/sitemaps/listings-1.xml', lastmod: '2026-01-02T00:00:00.000Z' },
      { loc: 'https://api.example/sitemaps/listings-2.xml' },
    ]);
  });

  it.each([
    ['/sitemaps/listings-1.xml', 1],
    ['/sitemaps/listings-42.xml', 42],
    ['/sitemaps/listings-0.xml', undefined],
    ['/sitemaps/listings-01.xml', undefined],
    ['/sitemaps/listings-1.xml.gz', undefined],
    ['/sitemaps/listings-x.xml', undefined],
    ['/sitemaps/../sitemap.xml', undefined],
  ])('shardOf(%j) is %j', (pathname, shard) => {
    expect(shardOf(pathname)).toBe(shard);
    if (shard) expect(shardPath(shard)).toBe(pathname);
  });
});
