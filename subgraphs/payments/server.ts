import { serviceReadiness } from '../../lib/health';
import { metricsOptionsOf, scraped } from '../../lib/metrics';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EventBus } from '../../lib/events';
import type { Logger } from '../../lib/logger';
import { providerPolicyFromConfig } from '../../lib/resilience';
import { createSubgraphServer } from '../../lib/subgraph';
import type { ListingsClient } from './clients/listings.client';
import { createContext } from './context';
import { PaymentsService } from './domain/payments.service';
import type { CheckoutGateway } from './provider/checkout-gateway.port';
import type { PaymentGateway } from './provider/payment-gateway.port';
import { buildPaymentsSchema } from './schema';
import { createPayPalWebhookRoute } from './webhooks/paypal-webhook.route';
import { createStripeWebhookRoute } from './webhooks/stripe-webhook.route';

export interface PaymentsSubgraphDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  internalSecret: string;
  gateway: PaymentGateway;
  /** PayPal checkouts (redirect, approve, capture). */
  checkout: CheckoutGateway;
  /** SayPro's site: PayPal sends the payer back to `<publicUrl>/paypal/return` (or `/paypal/cancel`). */
  publicUrl: () => string;
  listings: ListingsClient;
}

/** Builds the payments subgraph (schema, service, webhook route, HTTP server) without listening. */
export async function createPaymentsSubgraph(deps: PaymentsSubgraphDeps) {
  const policy = providerPolicyFromConfig('stripe', deps.config, deps.gateway, deps.logger);
  const checkoutPolicy = providerPolicyFromConfig('paypal', deps.config, deps.checkout, deps.logger);
  const payments = new PaymentsService({
    db: deps.db,
    bus: deps.bus,
    gateway: deps.gateway,
    policy,
    checkout: deps.checkout,
    checkoutPolicy,
    publicUrl: deps.publicUrl,
    listings: deps.listings,
    config: deps.config,
    logger: deps.logger,
  });
  scraped.paymentsHeld(async () => [{ value: await payments.heldForReview() }]);
  const schema = await buildPaymentsSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'payments',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({ payments }),
    routes: {
      '/webhooks/stripe': createStripeWebhookRoute({ gateway: deps.gateway, payments, logger: deps.logger }),
      '/webhooks/paypal': createPayPalWebhookRoute({ checkout: deps.checkout, payments, logger: deps.logger }),
    },
    readiness: [
      ...serviceReadiness({ db: deps.db, bus: deps.bus, providers: { stripe: policy, paypal: checkoutPolicy } }),
    ],
  });
  await apollo.start();
  return { apollo, server, payments, policy, checkoutPolicy };
}
export type PaymentsSubgraph = Awaited<ReturnType<typeof createPaymentsSubgraph>>;
