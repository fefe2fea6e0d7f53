/** The sitemap protocol's limit per file (sitemaps.org): 50,000 URLs (and 50 MB uncompressed). */
export const SITEMAP_MAX_URLS = 50_000;

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
/** Entity-escapes the five characters the sitemap protocol requires escaped. */
export const escapeXml = (value: string): string => value.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/** W3C Datetime in UTC, milliseconds kept (two edits in one second still move lastmod). */
const W3C_DATETIME = (d: Date) => d.toISOString();

export const URLSET_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n';
export const URLSET_CLOSE = '</urlset>\n';
export const INDEX_OPEN =
  '<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n';
export const INDEX_CLOSE = '</sitemapindex>\n';

/** One `<url>` of a shard. */
export const urlEntry = (loc: string, lastmod: Date): string =>
  `<url><loc>${escapeXml(loc)}</loc><lastmod>${W3C_DATETIME(lastmod)}</lastmod></url>\n`;

/** One `<sitemap>` of the index; lastmod is the newest of its URLs' (left out for an empty shard). */
export const sitemapEntry = (loc: string, lastmod: Date | null): string =>
  `<sitemap><loc>${escapeXml(loc)}</loc>${lastmod ? `<lastmod>${W3C_DATETIME(lastmod)}</lastmod>` : ''}</sitemap>\n`;
