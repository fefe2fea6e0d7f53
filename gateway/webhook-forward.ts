import type http from 'node:http';
import { HttpError, readBody, sendJson, type RouteHandler } from '../lib/http';
import type { Logger } from '../lib/logger';
import { traceCall } from '../lib/tracing';

export interface ForwardedRoute {
  /** The subgraph that owns the route. */
  subgraph: string;
  methods: Array<'GET' | 'POST'>;
  /** Largest body accepted (413 beyond), sized to what the sender really sends. */
  maxBytes: number;
}

/** Provider webhooks (and mail links) the gateway's host accepts, the subgraph that owns each, its methods and body limit. */
export const WEBHOOK_ROUTES: Record<string, ForwardedRoute> = {
  // One event per delivery; Stripe's event objects are a few KB, their largest well under this.
  '/webhooks/stripe': { subgraph: 'payments', methods: ['POST'], maxBytes: 512 * 1024 },
  // PayPal's events carry the order or capture resource: a few KB, like Stripe's.
  '/webhooks/paypal': { subgraph: 'payments', methods: ['POST'], maxBytes: 512 * 1024 },
  // SendGrid batches events and posts when a batch reaches 768 KB (or every 30 s).
  '/webhooks/sendgrid': { subgraph: 'email', methods: ['POST'], maxBytes: 1024 * 1024 },
  // The unsubscribe link in marketing mail: GET shows the confirmation, POST (also one-click) unsubscribes.
  '/email/unsubscribe': { subgraph: 'email', methods: ['GET', 'POST'], maxBytes: 16 * 1024 },
  // The confirmation link in the welcome and confirmation mail: GET shows a button, POST confirms.
  '/email/confirm': { subgraph: 'email', methods: ['GET', 'POST'], maxBytes: 16 * 1024 },
};
/** Headers a provider signs with or needs to see; nothing else is passed on. */
const FORWARDED = [
  'content-type',
  'stripe-signature',
  'paypal-transmission-id',
  'paypal-transmission-time',
  'paypal-transmission-sig',
  'paypal-cert-url',
  'paypal-auth-algo',
  'x-twilio-email-event-webhook-signature',
  'x-twilio-email-event-webhook-timestamp',
  'user-agent',
];

/**
 * Passes a provider webhook through to its subgraph untouched: the raw bytes must reach the
 * signature check exactly as the provider sent them, so nothing is parsed here. When tracing is
 * on, the forward is a client span of the gateway's request span and carries `traceparent`, so
 * the subgraph's handling of the webhook joins the gateway's trace.
 */
export function createWebhookForward(
  target: () => string,
  logger: Logger,
  route: Pick<ForwardedRoute, 'methods' | 'maxBytes'> & { subgraph?: string },
): RouteHandler {
  const { methods, maxBytes } = route;
  return async (req: http.IncomingMessage, res: http.ServerResponse, url: URL) => {
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    if (!methods.includes(method as 'GET' | 'POST'))
      return sendJson(res, 405, { error: `${methods.join(' or ')} only` }, { allow: methods.join(', ') });
    const body = method === 'POST' ? await readBody(req, maxBytes) : undefined;
    const headers: Record<string, string> = {};
    for (const name of FORWARDED) {
      const value = req.headers[name];
      if (typeof value === 'string') headers[name] = value;
    }
    let upstream: Response;
    const destination = `${target()}${url.search}`;
    try {
      upstream = await traceCall(route.subgraph ?? 'subgraph', { method, url: destination }, (trace) =>
        fetch(destination, {
          method,
          headers: { ...headers, ...trace },
          body: body as Uint8Array<ArrayBuffer> | undefined,
          signal: AbortSignal.timeout(15_000),
        }),
      );
    } catch (err) {
      logger.warn({ err: (err as Error).message, target: target() }, 'webhook forward failed');
      throw new HttpError(503, 'Webhook receiver unavailable', 'SERVICE_UNAVAILABLE');
    }
    const passOn: Record<string, string> = {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    };
    for (const name of ['content-security-policy', 'cache-control', 'referrer-policy', 'allow']) {
      const value = upstream.headers.get(name);
      if (value) passOn[name] = value;
    }
    res.writeHead(upstream.status, passOn);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  };
}
