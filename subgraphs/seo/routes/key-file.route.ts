import type { RouteHandler } from '../../../lib/http';
import { sendJson } from '../../../lib/http';

/** The seo service's path of the key file (the gateway serves it as /<key>.txt, `?key=` naming the file asked for). */
export const KEY_FILE_PATH = '/indexnow-key';

/**
 * The IndexNow key file: the key as text/plain when the path asked for is our key's file, 404 for
 * any other name (so no other key can be proven through us). Public: the key proves only that
 * submissions for this host come from its owner.
 */
export function createKeyFileRoute(key: string): RouteHandler {
  return (req, res, url) => {
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return sendJson(res, 405, { error: 'GET only', code: 'METHOD_NOT_ALLOWED' }, { allow: 'GET, HEAD' });
    if (url.searchParams.get('key') !== key) return sendJson(res, 404, { error: 'Not found', code: 'NOT_FOUND' });
    res.writeHead(200, {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(key),
      'cache-control': 'public, max-age=3600',
      'x-content-type-options': 'nosniff',
    });
    res.end(req.method === 'HEAD' ? undefined : key);
  };
}
