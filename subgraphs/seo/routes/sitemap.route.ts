import type http from 'node:http';
import { once } from 'node:events';
import type { RouteHandler } from '../../../lib/http';
import { sendJson } from '../../../lib/http';
import type { SeoService } from '../domain/seo.service';
import { shardPath } from '../../../lib/sitemap-paths';
import { INDEX_CLOSE, INDEX_OPEN, sitemapEntry, urlEntry, URLSET_CLOSE, URLSET_OPEN } from '../domain/sitemap-xml';

/** The seo service's own paths (the gateway serves them as /sitemap.xml and /sitemaps/listings-<n>.xml). */
export const SITEMAP_INDEX_PATH = '/sitemap.xml';
export const SITEMAP_SHARD_PATH = '/sitemaps/listings';

export interface SitemapOptions {
  seo: SeoService;
  /** Public base URL the shards are reached at (the gateway's): the index lists absolute URLs. */
  baseUrl: string;
  /** URLs per shard. @default 50000 */
  shardSize: number;
}

const XML_HEADERS = { 'content-type': 'application/xml; charset=utf-8', 'cache-control': 'public, max-age=300' };

/** Writes a chunk, waiting for the socket to drain when its buffer is full (a slow crawler holds no whole file in memory). */
async function write(res: http.ServerResponse, chunk: string): Promise<void> {
  if (!res.write(chunk)) await once(res, 'drain');
}

function onlyGet(req: http.IncomingMessage, res: http.ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  sendJson(res, 405, { error: 'GET only', code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
  return false;
}

/** The sitemap index: one entry per shard of ACTIVE listings (at least one, so the index is never empty). */
export function createSitemapIndexRoute(options: SitemapOptions): RouteHandler {
  const base = options.baseUrl.replace(/\/+$/, '');
  return async (req, res) => {
    if (!onlyGet(req, res)) return;
    const shards = await options.seo.sitemapShards(options.shardSize);
    res.writeHead(200, XML_HEADERS);
    if (req.method === 'HEAD') return void res.end();
    await write(res, INDEX_OPEN);
    if (shards.length === 0) await write(res, sitemapEntry(`${base}${shardPath(1)}`, null));
    for (const { shard, lastmod } of shards) await write(res, sitemapEntry(`${base}${shardPath(shard)}`, lastmod));
    res.end(INDEX_CLOSE);
  };
}

/** One shard (`?n=<shard>`), streamed from the database page by page; 404 past the last shard. */
export function createSitemapShardRoute(options: SitemapOptions): RouteHandler {
  return async (req, res, url) => {
    if (!onlyGet(req, res)) return;
    const n = Number(url.searchParams.get('n'));
    if (!Number.isSafeInteger(n) || n < 1)
      return sendJson(res, 400, { error: 'n must be a shard number from 1', code: 'BAD_REQUEST' });
    const urls = options.seo.sitemapUrls(n, options.shardSize);
    const first = await urls.next();
    if (first.done && n > 1) return sendJson(res, 404, { error: `No sitemap shard ${n}`, code: 'NOT_FOUND' });
    res.writeHead(200, XML_HEADERS);
    if (req.method === 'HEAD') return void (await urls.return(undefined), res.end());
    try {
      await write(res, URLSET_OPEN);
      if (!first.done) await write(res, urlEntry(first.value.url, first.value.lastmod));
      for await (const entry of urls) await write(res, urlEntry(entry.url, entry.lastmod));
      res.end(URLSET_CLOSE);
    } catch (err) {
      // The status is sent: cut the connection so the crawler sees a truncated file, not a short valid one.
      res.destroy(err as Error);
    }
  };
}
