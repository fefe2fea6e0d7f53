import type http from 'node:http';
import { readBody, sendJson, type RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import type { PaymentsService } from '../domain/payments.service';
import { WebhookSignatureError, type PaymentGateway } from '../provider/payment-gateway.port';

/** Stripe sends small JSON events; anything bigger is not Stripe. */
const MAX_WEBHOOK_BYTES = 512 * 1024;

/**
 * POST /webhooks/stripe: the raw body is verified (signature and timestamp) before anything is
 * parsed or stored; a bad one is a 400 and leaves no trace. Processing failures answer 500 so
 * Stripe delivers again; duplicates answer 200 and change nothing.
 */
export function createStripeWebhookRoute(deps: {
  gateway: PaymentGateway;
  payments: PaymentsService;
  logger: Logger;
}): RouteHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const raw = await readBody(req, MAX_WEBHOOK_BYTES);
    const signature = req.headers['stripe-signature'];
    let event;
    try {
      event = deps.gateway.parseWebhook(raw, typeof signature === 'string' ? signature : undefined);
    } catch (err) {
      if (err instanceof WebhookSignatureError) {
        deps.logger.warn({ reason: err.message }, 'stripe webhook refused: bad signature');
        return sendJson(res, 400, { error: 'invalid signature' });
      }
      throw err;
    }
    try {
      const outcome = await deps.payments.handleProviderEvent(event);
      deps.logger.info({ eventId: event.id, type: event.type, outcome }, 'stripe webhook');
      sendJson(res, 200, { received: true, outcome });
    } catch (err) {
      deps.logger.error({ err, eventId: event.id }, 'stripe webhook processing failed; Stripe will retry');
      sendJson(res, 500, { error: 'processing failed' });
    }
  };
}
