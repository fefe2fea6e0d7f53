import { serviceReadiness } from '../../lib/health';
import { metricsOptionsOf, onePerScrape, scraped } from '../../lib/metrics';
import type { Config } from '../../lib/config';
import type { Database } from '../../lib/db';
import type { EntityClient, InternalClient } from '../../lib/entity-client';
import type { EventBus } from '../../lib/events';
import type { Logger } from '../../lib/logger';
import { providerPolicyFromConfig } from '../../lib/resilience';
import { createSubgraphServer } from '../../lib/subgraph';
import { createListingsUserDirectory } from '../../lib/user-directory';
import { createContext } from './context';
import { EmailService } from './domain/email.service';
import { EventMail } from './domain/event-mail';
import { createRenderer } from './domain/templates';
import type { MailGateway } from './provider/mail-gateway.port';
import { buildEmailSchema } from './schema';
import { createSendGridWebhookRoute } from './webhooks/sendgrid-webhook.route';
import { createConfirmEmailRoute } from './webhooks/confirm-email.route';
import { createUnsubscribeRoute } from './webhooks/unsubscribe.route';

export interface EmailSubgraphDeps {
  config: Config;
  db: Database;
  bus: EventBus;
  logger: Logger;
  internalSecret: string;
  gateway: MailGateway;
  listings: EntityClient;
  /** listings' GraphQL endpoint, for the admin `users` pages a campaign to everyone walks. */
  listingsQuery: InternalClient;
  /** Public gateway URL for links in mail. @default config.EMAIL_PUBLIC_URL */
  publicUrl?: () => string;
}

/** Builds the email subgraph (schema, service, webhook and unsubscribe routes) without listening. */
export async function createEmailSubgraph(deps: EmailSubgraphDeps) {
  const policy = providerPolicyFromConfig('sendgrid', deps.config, deps.gateway, deps.logger);
  const publicUrl = deps.publicUrl ?? (() => deps.config.EMAIL_PUBLIC_URL);
  const email = new EmailService({
    db: deps.db,
    gateway: deps.gateway,
    policy,
    renderer: createRenderer(),
    listings: deps.listings,
    users: createListingsUserDirectory(deps.listingsQuery),
    logger: deps.logger,
    from: deps.config.EMAIL_FROM,
    publicUrl,
    unsubscribeSecret: deps.config.EMAIL_UNSUBSCRIBE_SECRET ?? deps.internalSecret,
    unsubscribeTtlDays: deps.config.EMAIL_UNSUBSCRIBE_TTL_DAYS,
    marketingDefault: deps.config.EMAIL_MARKETING_DEFAULT,
    accountMailPerRecipientPerHour: deps.config.ACCOUNT_MAIL_LIMIT_PER_RECIPIENT_PER_HOUR,
    retryBaseDelayMs: deps.config.EMAIL_RETRY_BASE_DELAY_MS,
    retryMaxDelayMs: deps.config.EMAIL_RETRY_MAX_DELAY_MS,
    leaseMs: Math.max(60_000, deps.config.SENDGRID_TIMEOUT_MS * (deps.config.PROVIDER_RETRIES + 2)),
    jobs: deps.bus,
  });
  // One read of the outbox per scrape feeds both gauges.
  const backlog = onePerScrape(() => email.backlog());
  scraped.outboxDepth(async () => {
    const b = await backlog();
    return [
      { labels: { status: 'queued' }, value: b.queued },
      { labels: { status: 'sending' }, value: b.sending },
    ];
  });
  scraped.outboxOldest(async () => [{ value: (await backlog()).oldestAgeSeconds }]);
  const mail = new EventMail({
    db: deps.db,
    email,
    listings: deps.listings,
    logger: deps.logger,
    publicUrl,
    confirmationSecret: deps.internalSecret,
  });
  const schema = await buildEmailSchema();
  const { apollo, server } = createSubgraphServer({
    name: 'email',
    metrics: metricsOptionsOf(deps.config),
    schema,
    logger: deps.logger,
    internalSecret: deps.internalSecret,
    maxBodyBytes: deps.config.MAX_BODY_BYTES,
    context: createContext({ email, listings: deps.listings }),
    readiness: [...serviceReadiness({ db: deps.db, bus: deps.bus, providers: { sendgrid: policy } })],
    routes: {
      '/webhooks/sendgrid': createSendGridWebhookRoute({ gateway: deps.gateway, email, logger: deps.logger }),
      '/email/unsubscribe': createUnsubscribeRoute({ email, logger: deps.logger }),
      '/email/confirm': createConfirmEmailRoute({ listingsQuery: deps.listingsQuery, logger: deps.logger }),
    },
  });
  await apollo.start();
  return { apollo, server, email, mail, policy };
}
export type EmailSubgraph = Awaited<ReturnType<typeof createEmailSubgraph>>;
