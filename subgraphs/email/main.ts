import '../../lib/telemetry';
import 'reflect-metadata';
import { ConfigError } from '../../lib/config';
import { createEntityClient, createInternalClient } from '../../lib/entity-client';
import { closeServer, listen, urlOf } from '../../lib/http';
import { openServiceStore, runService } from '../../lib/service-main';
import { EMAIL_DB_SCHEMA, EMAIL_MIGRATIONS } from './db/migrations';
import { consumeMailTriggers } from './events/mail-triggers.consumer';
import { workCampaignPages } from './jobs/campaign.job';
import { startMailSender } from './jobs/send.job';
import { createSendGridAdapter } from './provider/sendgrid.adapter';
import { createEmailSubgraph } from './server';

/** The emulator's verification key, for services mode against a running SendGrid emulator. */
async function emulatorPublicKey(apiUrl: string): Promise<string> {
  const res = await fetch(new URL('/__emulator/state', apiUrl), { signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`SendGrid emulator at ${apiUrl} answered ${res.status}`);
  return ((await res.json()) as { eventWebhook: { publicKey: string } }).eventWebhook.publicKey;
}

/**
 * The email subgraph on its own: `npm run start:email`. Talks to SendGrid with SENDGRID_API_KEY
 * (and verifies its event webhook with SENDGRID_WEBHOOK_PUBLIC_KEY), or to a SendGrid-compatible
 * API at SENDGRID_API_URL (the emulator, whose key it reads) without one.
 */
void runService('email', async ({ config, logger, shutdown }) => {
  if (!config.SENDGRID_API_KEY && !config.SENDGRID_API_URL) {
    throw new ConfigError([
      'SENDGRID_API_KEY: set it, or point SENDGRID_API_URL at a SendGrid emulator (node dist/emulators/sendgrid/main.js)',
    ]);
  }
  if (config.SENDGRID_API_KEY && !config.SENDGRID_WEBHOOK_PUBLIC_KEY) {
    throw new ConfigError([
      'SENDGRID_WEBHOOK_PUBLIC_KEY: required with SENDGRID_API_KEY (Settings → Mail Settings → Signed Event Webhook)',
    ]);
  }
  const webhookPublicKey = config.SENDGRID_WEBHOOK_PUBLIC_KEY ?? (await emulatorPublicKey(config.SENDGRID_API_URL!));
  const { handle, bus } = await openServiceStore({
    config,
    logger,
    shutdown,
    service: 'email',
    migrations: [[EMAIL_MIGRATIONS, EMAIL_DB_SCHEMA]],
  });
  const gateway = createSendGridAdapter({
    apiKey: config.SENDGRID_API_KEY ?? 'SG.emulator',
    apiUrl: config.SENDGRID_API_URL,
    timeoutMs: config.SENDGRID_TIMEOUT_MS,
    webhookPublicKey,
    webhookToleranceSeconds: config.SENDGRID_WEBHOOK_TOLERANCE_SECONDS,
    logger,
  });
  const subgraph = await createEmailSubgraph({
    config,
    db: handle.db,
    bus,
    logger,
    internalSecret: config.INTERNAL_SECRET,
    gateway,
    listings: createEntityClient({
      service: 'listings',
      url: () => config.LISTINGS_URL,
      internalSecret: config.INTERNAL_SECRET,
    }),
    listingsQuery: createInternalClient({
      service: 'listings',
      url: () => config.LISTINGS_URL,
      internalSecret: config.INTERNAL_SECRET,
    }),
  });
  shutdown.add('apollo', () => subgraph.apollo.stop());
  await consumeMailTriggers({ bus, db: handle.db, mail: subgraph.mail });
  await workCampaignPages({ bus, email: subgraph.email });
  shutdown.add('mail sender', startMailSender(subgraph.email, logger, config.EMAIL_SEND_INTERVAL_MS));
  const address = await listen(subgraph.server, config.EMAIL_PORT, config.HOST);
  shutdown.add('http', () => closeServer(subgraph.server, config.SHUTDOWN_GRACE_MS));
  return urlOf(address);
});
