import { keyFilePath } from '../../../lib/sitemap-paths';

/**
 * Where search engines fetch our key file for URLs of `host`. IndexNow only believes a key file on
 * the URLs' own host: the gateway's `/<key>.txt` when the gateway's public base is on that host
 * (locally both are 127.0.0.1), else the protocol's default place, the site's root, which the site
 * must forward to the gateway as it does robots.txt's sitemap (docs/seo.md#indexnow).
 */
export function keyLocationFor(host: string, publicBase: string, siteUrlTemplate: string, key: string): string {
  const base = new URL(publicBase);
  const hostname = new URL(`http://${host}`).hostname;
  if (base.hostname === hostname) return `${publicBase.replace(/\/+$/, '')}${keyFilePath(key)}`;
  const protocol = new URL(siteUrlTemplate.replace(/\{[^}]*\}/g, 'x')).protocol;
  return `${protocol}//${host}${keyFilePath(key)}`;
}
