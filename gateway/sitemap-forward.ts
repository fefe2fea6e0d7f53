import type http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { HttpError, sendJson, type RouteHandler } from '../lib/http';
import type { Logger } from '../lib/logger';
import { keyFileOf, shardOf, SITEMAP_INDEX } from '../lib/sitemap-paths';

/** Public sitemap paths (and the IndexNow key file) the gateway serves, and the seo service path behind each. */
export function sitemapTarget(pathname: string): string | undefined {
  if (pathname === SITEMAP_INDEX) return '/sitemap.xml';
  const key = keyFileOf(pathname);
  if (key) return `/indexnow-key?key=${key}`;
  const shard = shardOf(pathname);
  return shard === undefined ? undefined : `/sitemaps/listings?n=${shard}`;
}

/**
 * The sitemap index and shards, streamed from the seo service as it writes them (a shard of 50,000
 * URLs is never held whole here either). Public: no sign-in; only GET and HEAD.
 */
export function createSitemapForward(seoUrl: () => string, logger: Logger): RouteHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { error: 'GET only', code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    const target = sitemapTarget(url.pathname);
    if (!target) return sendJson(res, 404, { error: `No sitemap at ${url.pathname}`, code: 'NOT_FOUND' });
    let upstream: Response;
    try {
      upstream = await fetch(new URL(target, seoUrl()), { method: req.method, signal: AbortSignal.timeout(60_000) });
    } catch (err) {
      logger.warn({ err: (err as Error).message }, 'sitemap forward failed');
      throw new HttpError(503, 'Sitemap unavailable', 'SERVICE_UNAVAILABLE');
    }
    const headers: Record<string, string> = {};
    for (const name of ['content-type', 'cache-control', 'allow', 'x-content-type-options']) {
      const value = upstream.headers.get(name);
      if (value) headers[name] = value;
    }
    res.writeHead(upstream.status, headers);
    if (!upstream.body) return void res.end();
    await pipeline(Readable.fromWeb(upstream.body as import('node:stream/web').ReadableStream), res).catch(
      (err: Error) => {
        logger.warn({ err: err.message }, 'sitemap stream cut');
        res.destroy(err);
      },
    );
  };
}
