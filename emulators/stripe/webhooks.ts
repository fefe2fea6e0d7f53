import { createHmac } from 'node:crypto';
import type { Logger } from '../../lib/logger';
import { createWebhookDispatcher } from '../shared/webhooks';
import type { StripeEvent } from './types';

export type { WebhookDelivery } from '../shared/webhooks';

/** `t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, what stripe.webhooks.constructEvent checks. */
export function signatureHeader(secret: string, payload: string, timestamp = Math.floor(Date.now() / 1000)): string {
  const signature = createHmac('sha256', secret).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** Stripe's deliveries: pretty-printed JSON, signed per attempt, with Stripe's own headers. */
export function createStripeWebhooks(options: {
  secret: string;
  retryDelaysMs: number[];
  timeoutMs: number;
  logger: Logger;
  onDelivered: (event: StripeEvent) => void;
}) {
  return createWebhookDispatcher<StripeEvent>({
    render(event) {
      const body = JSON.stringify(event, null, 2);
      return {
        body,
        headers: {
          'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks)',
          'cache-control': 'no-cache',
          accept: '*/*; q=0.5, application/xml',
          'stripe-signature': signatureHeader(options.secret, body),
        },
      };
    },
    describe: (event) => ({ id: event.id, type: event.type }),
    retryDelaysMs: options.retryDelaysMs,
    timeoutMs: options.timeoutMs,
    logger: options.logger,
    onDelivered: options.onDelivered,
  });
}
