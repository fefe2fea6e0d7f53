import type http from 'node:http';
import { HttpError, readBody, sendJson, type RouteHandler } from '../lib/http';
import type { Logger } from '../lib/logger';

/** Provider webhooks the gateway's host accepts, and the subgraph that owns each. */
export const WEBHOOK_ROUTES: Record<string, string> = { '/webhooks/stripe': 'payments' };

const MAX_WEBHOOK_BYTES = 512 * 1024;
/** Headers a provider signs with or needs to see; nothing else is passed on. */
const FORWARDED = ['content-type', 'stripe-signature', 'user-agent'];

/**
 * Passes a provider webhook through to its subgraph untouched: the raw bytes must reach the
 * signature check exactly as the provider sent them, so nothing is parsed here.
 */
export function createWebhookForward(target: () => string, logger: Logger): RouteHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const body = await readBody(req, MAX_WEBHOOK_BYTES);
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let upstream: Response;
    try {
      upstream = await fetch(target(), { method: 'POST', headers, body, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      logger.warn({ err: (err as Error).message, target: target() }, 'webhook forward failed');
      throw new HttpError(503, 'Webhook receiver unavailable', 'SERVICE_UNAVAILABLE');
    }
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };
}
