import '../../lib/telemetry';
import 'reflect-metadata';
import { ConfigError, paypalConnection } from '../../lib/config';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { createListingsClient } from './clients/listings.client';
import { PAYMENTS_DB_SCHEMA, PAYMENTS_MIGRATIONS } from './db/migrations';
import { consumePaymentRejected } from './events/payment-rejected.consumer';
import { startReconciler } from './jobs/reconcile.job';
import { createPayPalAdapter } from './provider/paypal.adapter';
import { createStripeAdapter } from './provider/stripe.adapter';
import { createPaymentsSubgraph } from './server';

/**
 * The payments subgraph on its own: `npm run start:payments`. Talks to Stripe with
 * STRIPE_SECRET_KEY, or to a Stripe-compatible API at STRIPE_API_URL (the emulator) without one.
 */
void runService('payments', async ({ config, logger, shutdown }) => {
  if (!config.STRIPE_WEBHOOK_SECRET)
    throw new ConfigError(['STRIPE_WEBHOOK_SECRET: required to verify Stripe webhooks']);
  if (!config.STRIPE_SECRET_KEY && !config.STRIPE_API_URL) {
    throw new ConfigError([
      'STRIPE_SECRET_KEY: set it, or point STRIPE_API_URL at a Stripe emulator (node dist/emulators/stripe/main.js)',
    ]);
  }
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'payments',
    migrations: [[PAYMENTS_MIGRATIONS, PAYMENTS_DB_SCHEMA]],
  });
  // Without PAYPAL_CLIENT_ID: the emulator's app at PAYPAL_API_URL (or on PAYPAL_EMULATOR_PORT).
  const checkout = createPayPalAdapter({ ...paypalConnection(config), timeoutMs: config.PAYPAL_TIMEOUT_MS, logger });
  shutdown.add('paypal client', () => checkout.close());
  const subgraph = await createPaymentsSubgraph({
    config,
    db: handle.db,
    bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
    gateway: createStripeAdapter({
      secretKey: config.STRIPE_SECRET_KEY ?? 'sk_test_emulator',
      webhookSecret: config.STRIPE_WEBHOOK_SECRET,
      apiUrl: config.STRIPE_API_URL,
      timeoutMs: config.STRIPE_TIMEOUT_MS,
      logger,
    }),
    checkout,
    publicUrl: () => config.EMAIL_PUBLIC_URL,
    listings: createListingsClient({ url: () => config.LISTINGS_URL, internalSecret: config.INTERNAL_SECRET }),
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  await consumePaymentRejected({ bus, db: handle.db, payments: subgraph.payments, logger });
  shutdown.add('reconciler', startReconciler(subgraph.payments, logger, config.PAYMENTS_RECONCILE_INTERVAL_MS));
  const address = await listen(subgraph.server, config.PAYMENTS_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
