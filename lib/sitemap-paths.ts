/** The public sitemap's paths, shared by the gateway (which serves them) and the seo service (which lists them). */
export const SITEMAP_INDEX = '/sitemap.xml';

/** The public path of shard `n` (1-based). */
export const shardPath = (n: number): string => `/sitemaps/listings-${n}.xml`;

/** Shard number of a public path, or undefined when it is not one. */
export function shardOf(pathname: string): number | undefined {
  const match = /^\/sitemaps\/listings-([1-9][0-9]{0,6})\.xml$/.exec(pathname);
  return match ? Number(match[1]) : undefined;
}

/** The IndexNow key file's public path: `/<key>.txt` at the site's root. */
export const keyFilePath = (key: string): string => `/${key}.txt`;

/** The key a public path names as its key file (8–128 of [A-Za-z0-9-], as the protocol allows), or undefined. */
export function keyFileOf(pathname: string): string | undefined {
  return /^\/([A-Za-z0-9-]{8,128})\.txt$/.exec(pathname)?.[1];
}
