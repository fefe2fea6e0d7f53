import {
  API_KEY_VERIFY_PATH,
  VIEWER_HEADER,
  createReplayGuard,
  isSystem,
  verifyViewerHeader,
  type Viewer,
} from '../../../lib/auth';
export { API_KEY_VERIFY_PATH } from '../../../lib/auth';
import { readBody, sendJson, type RouteHandler } from '../../../lib/http';
import type { ApiKeysService } from '../domain/api-keys.service';

/**
 * POST {"key": "sp_…"} → 200 {"id", "scopes"} for a live key, 404 otherwise. Only our own services
 * may ask, with a system viewer header signed for listings and this very body, used once; anyone
 * else gets 401/403, so it is no oracle for guessing (and lib/subgraph.ts rate-limits it).
 */
export function createApiKeyVerifyRoute(apiKeys: ApiKeysService, internalSecret: string): RouteHandler {
  const replay = createReplayGuard();
  return async (req, res) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
    const body = await readBody(req, 1024);
    const header = req.headers[VIEWER_HEADER];
    let caller: Viewer;
    try {
      caller = verifyViewerHeader(
        typeof header === 'string' ? header : undefined,
        { audience: 'listings', path: API_KEY_VERIFY_PATH, body },
        internalSecret,
        { replay },
      );
    } catch {
      return sendJson(res, 401, { error: 'unauthenticated' });
    }
    if (!isSystem(caller)) return sendJson(res, 403, { error: 'forbidden' });
    let key: unknown;
    try {
      key = (JSON.parse(body.toString('utf8')) as { key?: unknown }).key;
    } catch {
      return sendJson(res, 400, { error: 'malformed body' });
    }
    const found = typeof key === 'string' ? await apiKeys.verify(key) : null;
    return found ? sendJson(res, 200, found) : sendJson(res, 404, { error: 'unknown key' });
  };
}
