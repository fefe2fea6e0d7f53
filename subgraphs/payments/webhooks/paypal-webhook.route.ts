import type http from 'node:http';
import { readBody, sendJson, type RouteHandler } from '../../../lib/http';
import type { Logger } from '../../../lib/logger';
import type { PaymentsService } from '../domain/payments.service';
import type { CheckoutEvent, CheckoutGateway } from '../provider/checkout-gateway.port';
import { WebhookSignatureError } from '../provider/payment-gateway.port';

/** PayPal's events carry one order or capture resource: a few KB. */
const MAX_WEBHOOK_BYTES = 512 * 1024;

/**
 * POST /webhooks/paypal: PayPal itself verifies the delivery (verify-webhook-signature) before
 * anything is stored; a forged one is a 400 and leaves no trace. Failures to verify or process
 * answer 500 so PayPal delivers again (up to 25 times over 3 days); duplicates answer 200.
 */
export function createPayPalWebhookRoute(deps: {
  checkout: CheckoutGateway;
  payments: PaymentsService;
  logger: Logger;
}): RouteHandler {
  return async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' }, { allow: 'POST' });
    const raw = await readBody(req, MAX_WEBHOOK_BYTES);
    let event: CheckoutEvent;
    try {
      event = await deps.checkout.verifyWebhook(raw, req.headers);
    } catch (err) {
      if (err instanceof WebhookSignatureError) {
        deps.logger.warn({ reason: err.message }, 'paypal webhook refused: not verified');
        return sendJson(res, 400, { error: 'invalid signature' });
      }
      deps.logger.warn(
        { error: (err as Error).message },
        'paypal webhook not verified: PayPal unreachable; it will deliver again',
      );
      return sendJson(res, 500, { error: 'verification unavailable' });
    }
    try {
      const outcome = await deps.payments.handleCheckoutEvent(event);
      deps.logger.info({ eventId: event.id, type: event.type, outcome }, 'paypal webhook');
      sendJson(res, 200, { received: true, outcome });
    } catch (err) {
      deps.logger.error({ err, eventId: event.id }, 'paypal webhook processing failed; PayPal will retry');
      sendJson(res, 500, { error: 'processing failed' });
    }
  };
}
