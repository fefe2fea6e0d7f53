import path from 'node:path';
import { indexNowConnection, paypalConnection, type Config } from '../lib/config';
import { createDatabase, type DatabaseHandle } from '../lib/db';
import { createEventBus, type EventBus } from '../lib/events';
import { closeServer, listen, urlOf } from '../lib/http';
import type { Logger } from '../lib/logger';
import { createMetricsServer } from '../lib/metrics';
import type { Shutdown } from '../lib/lifecycle';
import { createHubSpotEmulator, type HubSpotEmulator } from '../emulators/hubspot/server';
import { createSendGridEmulator, type SendGridEmulator } from '../emulators/sendgrid/server';
import { createStripeEmulator, type StripeEmulator } from '../emulators/stripe/server';
import { createPayPalEmulator, type PayPalEmulator } from '../emulators/paypal/server';
import { createIndexNowEmulator, type IndexNowEmulator } from '../emulators/indexnow/server';
import { createEntityClient, createInternalClient } from '../lib/entity-client';
import { composeCrm } from '../subgraphs/crm/compose';
import type { CrmSubgraph } from '../subgraphs/crm/server';
import { gatewayOptionsFromConfig, readSupergraph } from '../gateway/options';
import { consumeMailTriggers } from '../subgraphs/email/events/mail-triggers.consumer';
import { workCampaignPages } from '../subgraphs/email/jobs/campaign.job';
import { startMailSender } from '../subgraphs/email/jobs/send.job';
import { createSendGridAdapter } from '../subgraphs/email/provider/sendgrid.adapter';
import { createEmailSubgraph, type EmailSubgraph } from '../subgraphs/email/server';
import { createGateway, type Gateway } from '../gateway/server';
import { MIGRATIONS } from './migrations';
import { consumePaymentSucceeded } from '../subgraphs/listings/events/payment-succeeded.consumer';
import { startExpirySweeper } from '../subgraphs/listings/jobs/expiry.job';
import { createListingsSubgraph, type ListingsSubgraph } from '../subgraphs/listings/server';
import { createListingsClient } from '../subgraphs/payments/clients/listings.client';
import { consumePaymentRejected } from '../subgraphs/payments/events/payment-rejected.consumer';
import { startReconciler } from '../subgraphs/payments/jobs/reconcile.job';
import { createPayPalAdapter } from '../subgraphs/payments/provider/paypal.adapter';
import { createStripeAdapter } from '../subgraphs/payments/provider/stripe.adapter';
import { createPaymentsSubgraph, type PaymentsSubgraph } from '../subgraphs/payments/server';
import { composeSeo } from '../subgraphs/seo/compose';
import type { SeoSubgraph } from '../subgraphs/seo/server';
import { createGa4Emulator, type Ga4Emulator } from '../emulators/ga4/server';
import { composeAnalytics } from '../subgraphs/analytics/compose';
import type { AnalyticsSubgraph } from '../subgraphs/analytics/server';

export type EmbeddedConfig = Config & { JWT_SECRET: string; INTERNAL_SECRET: string; STRIPE_WEBHOOK_SECRET: string };

export interface EmbeddedOptions {
  /** Config with the secrets set. */
  config: EmbeddedConfig;
  /** PGlite folder; memory when undefined. */
  dataDir?: string;
  /**
   * Where the local emulators keep their state (`stripe.json`, `sendgrid.json`, `hubspot.json`),
   * so it survives a restart as the database does; in memory when undefined (tests).
   */
  emulatorStateDir?: string;
  /** A migrated PGlite dump to start from (tests). */
  loadDataDir?: Blob;
  /** Use this database instead of opening one (tests on PostgreSQL). */
  handle?: DatabaseHandle;
  logger: Logger;
  shutdown: Shutdown;
  /** Ports; 0 picks free ones (tests). Defaults to the config's. */
  ports?: {
    gateway: number;
    listings: number;
    payments: number;
    crm: number;
    email: number;
    stripe: number;
    hubspot: number;
    sendgrid: number;
    paypal?: number;
    indexnow?: number;
    metrics?: number;
    seo?: number;
    analytics?: number;
    ga4?: number;
  };
  onQuery?: (query: string, params: unknown[]) => void;
}

export interface EmbeddedStack {
  /** `metrics`: every service's Prometheus metrics (this process's registry), when METRICS_ENABLED. */
  urls: { gateway: string; subgraphs: Record<string, string>; emulators: Record<string, string>; metrics?: string };
  handle: DatabaseHandle;
  bus: EventBus;
  gateway: Gateway;
  listings: ListingsSubgraph;
  payments: PaymentsSubgraph;
  crm: CrmSubgraph;
  email: EmailSubgraph;
  seo: SeoSubgraph;
  analytics: AnalyticsSubgraph;
  /** The local GA4 Measurement Protocol, when no GA4_MEASUREMENT_ID / GA4_API_SECRET are set. */
  ga4?: Ga4Emulator;
  /** The local Stripe, when no STRIPE_SECRET_KEY is set. */
  stripe?: StripeEmulator;
  /** The local PayPal (approval page, activity page), when no PAYPAL_CLIENT_ID or PAYPAL_API_URL is set. */
  paypal?: PayPalEmulator;
  /** The local IndexNow endpoint (with its page of received URLs), when no INDEXNOW_KEY or INDEXNOW_ENDPOINT is set. */
  indexnow?: IndexNowEmulator;
  /** The local HubSpot, when no HUBSPOT_ACCESS_TOKEN is set. */
  hubspot?: HubSpotEmulator;
  /** The local SendGrid (with its mailbox page), when no SENDGRID_API_KEY is set. */
  sendgrid?: SendGridEmulator;
}

/**
 * The whole graph in this process: one database (a schema per subgraph, plus pg-boss's), each
 * subgraph on its own loopback port, the gateway calling them over HTTP exactly as in production,
 * and local provider emulators for every provider without keys.
 */
export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedStack> {
  const { config, logger, shutdown } = options;
  const host = config.HOST;
  const port = (name: keyof NonNullable<EmbeddedOptions['ports']>, fallback: number) =>
    options.ports?.[name] ?? fallback;
  const stateFile = (emulator: 'stripe' | 'sendgrid' | 'hubspot' | 'paypal' | 'ga4' | 'indexnow') =>
    options.emulatorStateDir ? path.join(options.emulatorStateDir, `${emulator}.json`) : undefined;
  // Closers run last-added first: HTTP drains before Apollo stops, services before the database.
  const serve = async (
    name: string,
    app: { server: import('node:http').Server; apollo?: { stop(): Promise<void> }; engine?: { stop(): Promise<void> } },
    portNumber: number,
  ) => {
    const engine = app.apollo ?? app.engine;
    if (engine) shutdown.add(`${name} engine`, () => engine.stop());
    const address = await listen(app.server, portNumber, host);
    shutdown.add(`${name} http`, () => closeServer(app.server, config.SHUTDOWN_GRACE_MS));
    return address;
  };

  const handle =
    options.handle ??
    (await createDatabase({
      url: config.DATABASE_URL,
      dataDir: options.dataDir,
      loadDataDir: options.loadDataDir,
      poolMax: config.DATABASE_POOL_MAX,
      onQuery: options.onQuery,
      logger,
    }));
  if (!options.handle) shutdown.add('database', () => handle.close());
  for (const [folder, schema] of MIGRATIONS) await handle.migrate(folder, schema);
  const bus = await createEventBus({
    handle,
    source: 'embedded',
    logger: logger.child({ service: 'events' }),
    leaseSeconds: config.EVENT_LEASE_SECONDS,
  });
  shutdown.add('event bus', () => bus.stop());

  // listings
  const listingsLogger = logger.child({ service: 'listings' });
  const listings = await createListingsSubgraph({
    config,
    db: handle.db,
    bus: bus.withSource('listings'),
    logger: listingsLogger,
    internalSecret: config.INTERNAL_SECRET,
  });
  const listingsUrl = urlOf(await serve('listings', listings, port('listings', config.LISTINGS_PORT)));
  shutdown.add('expiry sweeper', startExpirySweeper(listings.listings, listingsLogger));
  await consumePaymentSucceeded({
    bus: bus.withSource('listings'),
    db: handle.db,
    listings: listings.listings,
    logger: listingsLogger,
  });

  // payments, on Stripe or on the local emulator
  const paymentsLogger = logger.child({ service: 'payments' });
  let stripe: StripeEmulator | undefined;
  let stripeApiUrl = config.STRIPE_API_URL;
  const emulators: Record<string, string> = {};
  if (!config.STRIPE_SECRET_KEY && !stripeApiUrl) {
    stripe = createStripeEmulator({
      webhookSecret: config.STRIPE_WEBHOOK_SECRET,
      stateFile: stateFile('stripe'),
      logger: logger.child({ service: 'stripe-emulator' }),
    });
    stripeApiUrl = await stripe.listen(port('stripe', config.STRIPE_EMULATOR_PORT), host);
    shutdown.add('stripe emulator', () => stripe!.close());
    emulators.stripe = `${stripeApiUrl}/__emulator`;
  }
  const gatewayAdapter = createStripeAdapter({
    secretKey: config.STRIPE_SECRET_KEY ?? 'sk_test_emulator',
    webhookSecret: config.STRIPE_WEBHOOK_SECRET,
    apiUrl: config.STRIPE_SECRET_KEY ? config.STRIPE_API_URL : stripeApiUrl,
    timeoutMs: config.STRIPE_TIMEOUT_MS,
    logger: paymentsLogger,
  });
  // PayPal checkouts, on PayPal or on the local emulator (whose approval page a person can click)
  let paypal: PayPalEmulator | undefined;
  let paypalApi = paypalConnection(config);
  if (paypalApi.emulated && !config.PAYPAL_API_URL) {
    paypal = createPayPalEmulator({
      webhookId: paypalApi.webhookId ?? undefined,
      stateFile: stateFile('paypal'),
      logger: logger.child({ service: 'paypal-emulator' }),
    });
    paypalApi = { ...paypalApi, apiUrl: await paypal.listen(port('paypal', config.PAYPAL_EMULATOR_PORT), host) };
    shutdown.add('paypal emulator', () => paypal!.close());
    emulators.paypal = `${paypalApi.apiUrl}/__emulator`;
  }
  const checkoutAdapter = createPayPalAdapter({
    ...paypalApi,
    timeoutMs: config.PAYPAL_TIMEOUT_MS,
    logger: paymentsLogger,
  });
  shutdown.add('paypal client', () => checkoutAdapter.close());
  // Return and cancel URLs of PayPal checkouts point at the site; on port 0 its address is known only after the gateway listens.
  let publicUrl = config.EMAIL_PUBLIC_URL;
  const payments = await createPaymentsSubgraph({
    config,
    db: handle.db,
    bus: bus.withSource('payments'),
    logger: paymentsLogger,
    internalSecret: config.INTERNAL_SECRET,
    gateway: gatewayAdapter,
    checkout: checkoutAdapter,
    publicUrl: () => publicUrl,
    listings: createListingsClient({ url: () => listingsUrl, internalSecret: config.INTERNAL_SECRET }),
  });
  const paymentsAddress = await serve('payments', payments, port('payments', config.PAYMENTS_PORT));
  const paymentsUrl = urlOf(paymentsAddress);
  await consumePaymentRejected({
    bus: bus.withSource('payments'),
    db: handle.db,
    payments: payments.payments,
    logger: paymentsLogger,
  });
  shutdown.add(
    'payments reconciler',
    startReconciler(payments.payments, paymentsLogger, config.PAYMENTS_RECONCILE_INTERVAL_MS),
  );
  stripe?.setWebhookUrl(urlOf(paymentsAddress, '/webhooks/stripe'));

  // crm, on HubSpot or on the local emulator
  const crmLogger = logger.child({ service: 'crm' });
  let hubspot: HubSpotEmulator | undefined;
  let hubspotApiUrl = config.HUBSPOT_API_URL;
  if (!config.HUBSPOT_ACCESS_TOKEN && !hubspotApiUrl) {
    hubspot = createHubSpotEmulator({
      logger: logger.child({ service: 'hubspot-emulator' }),
      rateLimit: config.HUBSPOT_RATE_LIMIT,
      rateWindowMs: config.HUBSPOT_RATE_WINDOW_MS,
      stateFile: stateFile('hubspot'),
    });
    hubspotApiUrl = await hubspot.listen(port('hubspot', config.HUBSPOT_EMULATOR_PORT), host);
    shutdown.add('hubspot emulator', () => hubspot!.close());
    emulators.hubspot = `${hubspotApiUrl}/__emulator`;
  }
  const crm = await composeCrm({
    config,
    db: handle.db,
    bus: bus.withSource('crm'),
    logger: crmLogger,
    shutdown,
    internalSecret: config.INTERNAL_SECRET,
    hubspotApiUrl: config.HUBSPOT_ACCESS_TOKEN ? config.HUBSPOT_API_URL : hubspotApiUrl,
    listingsUrl: () => listingsUrl,
    paymentsUrl: () => paymentsUrl,
  });
  const crmUrl = urlOf(await serve('crm', crm, port('crm', config.CRM_PORT)));

  // email, on SendGrid or on the local emulator (whose mailbox page shows every mail)
  const emailLogger = logger.child({ service: 'email' });
  let sendgrid: SendGridEmulator | undefined;
  let sendgridApiUrl = config.SENDGRID_API_URL;
  let webhookPublicKey = config.SENDGRID_WEBHOOK_PUBLIC_KEY;
  if (!config.SENDGRID_API_KEY && !sendgridApiUrl) {
    sendgrid = createSendGridEmulator({
      stateFile: stateFile('sendgrid'),
      logger: logger.child({ service: 'sendgrid-emulator' }),
    });
    sendgridApiUrl = await sendgrid.listen(port('sendgrid', config.SENDGRID_EMULATOR_PORT), host);
    shutdown.add('sendgrid emulator', () => sendgrid!.close());
    webhookPublicKey = sendgrid.publicKey();
    emulators.sendgrid = `${sendgridApiUrl}/`;
  }
  if (!webhookPublicKey)
    throw new Error('SENDGRID_WEBHOOK_PUBLIC_KEY is required with SENDGRID_API_KEY or SENDGRID_API_URL');
  const mailGateway = createSendGridAdapter({
    apiKey: config.SENDGRID_API_KEY ?? 'SG.emulator',
    apiUrl: config.SENDGRID_API_KEY ? config.SENDGRID_API_URL : sendgridApiUrl,
    timeoutMs: config.SENDGRID_TIMEOUT_MS,
    webhookPublicKey,
    webhookToleranceSeconds: config.SENDGRID_WEBHOOK_TOLERANCE_SECONDS,
    logger: emailLogger,
  });
  // Links in mail point at the gateway too (publicUrl above).
  const email = await createEmailSubgraph({
    config,
    db: handle.db,
    bus: bus.withSource('email'),
    logger: emailLogger,
    internalSecret: config.INTERNAL_SECRET,
    gateway: mailGateway,
    listings: createEntityClient({
      service: 'listings',
      url: () => listingsUrl,
      internalSecret: config.INTERNAL_SECRET,
    }),
    listingsQuery: createInternalClient({
      service: 'listings',
      url: () => listingsUrl,
      internalSecret: config.INTERNAL_SECRET,
    }),
    publicUrl: () => publicUrl,
  });
  const emailAddress = await serve('email', email, port('email', config.EMAIL_PORT));
  const emailUrl = urlOf(emailAddress);
  await consumeMailTriggers({ bus: bus.withSource('email'), db: handle.db, mail: email.mail });
  await workCampaignPages({ bus, email: email.email });
  shutdown.add('mail sender', startMailSender(email.email, emailLogger, config.EMAIL_SEND_INTERVAL_MS));
  sendgrid?.setEventWebhookUrl(urlOf(emailAddress, '/webhooks/sendgrid'));

  // seo: what search engines see of each listing, kept from the listing events, pushed to IndexNow
  // (or to the local emulator, whose page lists every URL it received)
  const seoLogger = logger.child({ service: 'seo' });
  let indexnow: IndexNowEmulator | undefined;
  let indexNowEndpoint = indexNowConnection(config).endpoint;
  if (!config.INDEXNOW_KEY && !config.INDEXNOW_ENDPOINT) {
    indexnow = createIndexNowEmulator({
      stateFile: stateFile('indexnow'),
      logger: logger.child({ service: 'indexnow-emulator' }),
    });
    const indexNowUrl = await indexnow.listen(port('indexnow', config.INDEXNOW_EMULATOR_PORT), host);
    indexNowEndpoint = `${indexNowUrl}/indexnow`;
    shutdown.add('indexnow emulator', () => indexnow!.close());
    emulators.indexnow = `${indexNowUrl}/__emulator`;
  }
  // The key file is reached at the gateway; on port 0 its address is known only after it listens.
  let sitemapBase = config.SITEMAP_BASE_URL;
  const seo = await composeSeo({
    config,
    db: handle.db,
    bus: bus.withSource('seo'),
    logger: seoLogger,
    shutdown,
    internalSecret: config.INTERNAL_SECRET,
    listingsUrl: () => listingsUrl,
    indexNowEndpoint,
    publicBaseUrl: () => sitemapBase,
  });
  const seoUrl = urlOf(await serve('seo', seo, port('seo', config.SEO_PORT)));

  // analytics: domain events to GA4's Measurement Protocol, or to the local emulator without keys
  let ga4: Ga4Emulator | undefined;
  let ga4Endpoint: string | undefined;
  if (!(config.GA4_MEASUREMENT_ID && config.GA4_API_SECRET) && !config.GA4_ENDPOINT) {
    ga4 = createGa4Emulator({ stateFile: stateFile('ga4'), logger: logger.child({ service: 'ga4-emulator' }) });
    ga4Endpoint = await ga4.listen(port('ga4', config.GA4_EMULATOR_PORT), host);
    shutdown.add('ga4 emulator', () => ga4!.close());
    emulators.ga4 = `${ga4Endpoint}/__emulator`;
  }
  const analytics = await composeAnalytics({
    config,
    db: handle.db,
    bus: bus.withSource('analytics'),
    logger: logger.child({ service: 'analytics' }),
    shutdown,
    ga4Endpoint,
    listingsUrl: () => listingsUrl,
  });
  const analyticsUrl = urlOf(await serve('analytics', analytics, port('analytics', config.ANALYTICS_PORT)));

  // gateway
  const subgraphs = {
    listings: listingsUrl,
    payments: paymentsUrl,
    crm: crmUrl,
    email: emailUrl,
    seo: seoUrl,
    analytics: analyticsUrl,
  };
  const gateway = await createGateway(
    gatewayOptionsFromConfig(config, {
      logger: logger.child({ service: 'gateway' }),
      supergraphSdl: readSupergraph(config),
      subgraphUrls: subgraphs,
    }),
  );
  const gatewayAddress = await serve(
    'gateway',
    { server: gateway.server, engine: { stop: gateway.stop } },
    port('gateway', config.GATEWAY_PORT),
  );
  const scheme = config.TLS_CERT_FILE ? 'https' : 'http';
  const gatewayUrl = urlOf(gatewayAddress, '/graphql', scheme);
  if (publicUrl === 'http://127.0.0.1:4000' && gatewayAddress.port !== 4000)
    publicUrl = urlOf(gatewayAddress, '', scheme);
  if (sitemapBase === 'http://127.0.0.1:4000' && gatewayAddress.port !== 4000)
    sitemapBase = urlOf(gatewayAddress, '', scheme);
  // PayPal delivers to the gateway's host, as it would in production; over TLS (a certificate the
  // emulator does not trust) straight to payments.
  paypal?.setWebhookUrl(
    scheme === 'https' ? urlOf(paymentsAddress, '/webhooks/paypal') : urlOf(gatewayAddress, '/webhooks/paypal'),
  );

  // One registry in this process: the gateway's metrics listener has every service's metrics.
  let metricsUrl: string | undefined;
  if (config.METRICS_ENABLED) {
    const metricsServer = createMetricsServer(config.METRICS_TOKEN);
    metricsUrl = urlOf(
      await listen(metricsServer, options.ports?.metrics ?? config.METRICS_PORT, config.METRICS_HOST),
      '/metrics',
    );
    shutdown.add('metrics http', () => closeServer(metricsServer, 0));
  }

  return {
    urls: { gateway: gatewayUrl, subgraphs, emulators, metrics: metricsUrl },
    handle,
    bus,
    gateway,
    listings,
    payments,
    crm,
    email,
    seo,
    analytics,
    ga4,
    stripe,
    paypal,
    indexnow,
    hubspot,
    sendgrid,
  };
}
