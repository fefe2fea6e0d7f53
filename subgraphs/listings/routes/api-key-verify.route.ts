import { VIEWER_HEADER, isSystem, verifyViewerHeader, type Viewer } from '../../../lib/auth';
export { API_KEY_VERIFY_PATH } from '../../../lib/auth';
import { HttpError, readBody, sendJson, type RouteHandler } from '../../../lib/http';
import type { ApiKeysService } from '../domain/api-keys.service';

/**
 * POST {"key": "sp_…"} → 200 {"id", "scopes"} for a live key, 404 otherwise. Only our own services
 * (a signed system viewer header) may ask; anyone else gets 401/403, so it is no oracle for guessing.
 */
export function createApiKeyVerifyRoute(apiKeys: ApiKeysService, internalSecret: string): RouteHandler {
  return async (req, res) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'use POST' }, { allow: 'POST' });
    const header = req.headers[VIEWER_HEADER];
    let caller: Viewer;
    try {
      caller = verifyViewerHeader(typeof header === 'string' ? header : undefined, internalSecret);
    } catch {
      return sendJson(res, 401, { error: 'unauthenticated' });
    }
    if (!isSystem(caller)) return sendJson(res, 403, { error: 'forbidden' });
    let key: unknown;
    try {
      key = (JSON.parse((await readBody(req, 1024)).toString('utf8')) as { key?: unknown }).key;
    } catch (err) {
      if (err instanceof HttpError) throw err;
      return sendJson(res, 400, { error: 'malformed body' });
    }
    const found = typeof key === 'string' ? await apiKeys.verify(key) : null;
    return found ? sendJson(res, 200, found) : sendJson(res, 404, { error: 'unknown key' });
  };
}
