import fs from 'node:fs';
import path from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { LISTING_CATEGORIES } from './categories';
import { projectRoot } from './data-dir';
import { siteUrlTemplateProblem } from './listing-url';

/**
 * Every environment variable SayPro Graph reads, in one schema. `.env.example` lists the same
 * variables; `test/unit/lib/config.test.ts` checks that the two agree.
 *
 * Defaults are those of embedded mode (`npm start`): loopback ports, a PGlite folder in `.data/`,
 * secrets generated on first start. Services mode sets `DATABASE_URL` and the secrets.
 */
const port = z.coerce.number().int().min(0).max(65535);
const secret = z.string().min(32, 'must be at least 32 characters');
const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** OpenTelemetry's sampler names (OTEL_TRACES_SAMPLER). */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;

/** https, or plain http to a loopback address (emulators, tests). */
export const isSecureUrl = (url: string): boolean =>
  url.startsWith('https://') || /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);
/** A URL on this machine (http or https). */
const isLoopbackUrl = (url: string) => /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/.test(url);

const listingCategoryFees = z.string().transform((raw, ctx) => {
  try {
    const parsed: unknown = JSON.parse(raw);
    const fees = z.record(z.string(), z.number().int().min(0)).parse(parsed);
    const unknown = Object.keys(fees).filter((k) => !(LISTING_CATEGORIES as readonly string[]).includes(k));
    if (unknown.length) {
      ctx.addIssue({
        code: z.ZodIssueCode.custom,
        message: `unknown categories ${unknown.join(', ')}; categories are ${LISTING_CATEGORIES.join(', ')}`,
      });
      return z.NEVER;
    }
    return fees;
  } catch {
    ctx.addIssue({
      code: z.ZodIssueCode.custom,
      message: 'must be a JSON object of category → integer fee in minor units, e.g. {"JOBS":0}',
    });
    return z.NEVER;
  }
});

export const configSchema = z.object({
  /** The file of `KEY=value` lines read at start (what the environment already sets wins); empty: none. @default .env in the project folder */
  ENV_FILE: z.string().optional(),
  /** `development` serves the Sandbox landing page and introspection; `production` turns both off. @default development */
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  /** pino level: fatal, error, warn, info, debug, trace or silent. @default info */
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** `json`: pino's JSON lines; `ecs`: Elastic Common Schema fields (`@timestamp`, `log.level`, `trace.id`); `pretty`: readable lines. @default pretty at a terminal, json otherwise */
  LOG_FORMAT: z.enum(['json', 'ecs', 'pretty']).optional(),
  /** OTLP/HTTP collector base URL (traces go to `<url>/v1/traces`); unset, nothing is traced or sent. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().url().optional(),
  /** Headers sent with every export, `key=value,key2=value2` (a vendor's API key). */
  OTEL_EXPORTER_OTLP_HEADERS: z.string().min(1).optional(),
  /** `service.name` of every span; unset, each service names its own (gateway, listings, …). */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** Which traces are kept (OpenTelemetry's sampler names). @default parentbased_always_on */
  OTEL_TRACES_SAMPLER: z.enum(TRACE_SAMPLERS).default('parentbased_always_on'),
  /** Ratio kept by the `traceidratio` samplers, 0 to 1. @default 1 */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** Also record the apollo engine's own spans (@apollo/gateway's request, validate, plan, execute, fetch, postprocessing): six more per operation. @default false */
  OTEL_GATEWAY_ENGINE_SPANS: bool.default('false'),
  /** Folder for the embedded PGlite database, its lock file and generated dev secrets. @default .data */
  DATA_DIR: z.string().min(1).default('.data'),
  /** PostgreSQL 15+ connection string; when set, services use it instead of PGlite. */
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, 'must be a postgres:// or postgresql:// URL')
    .optional(),
  /** Pool size per service when DATABASE_URL is set. @default 10 */
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(200).default(10),
  /**
   * Lease of an event a consumer took: renewed by a heartbeat while it is handled, so when a consumer
   * dies its unfinished events go to another within about this long. @default 10
   */
  EVENT_LEASE_SECONDS: z.coerce.number().int().min(2).max(3600).default(10),
  /** Interface the services listen on. Embedded mode keeps everything on loopback. @default 127.0.0.1 */
  HOST: z.string().min(1).default('127.0.0.1'),
  /** Gateway port. @default 4000 */
  GATEWAY_PORT: port.default(4000),
  /** listings subgraph port. @default 4001 */
  LISTINGS_PORT: port.default(4001),
  /** URL the gateway calls the listings subgraph at (services mode). Embedded mode derives it. @default http://127.0.0.1:4001/graphql */
  LISTINGS_URL: z.string().url().default('http://127.0.0.1:4001/graphql'),
  /**
   * Where a listing lives on SayPro's site: a URL template with `{id}` (required) and `{slug}` (the
   * title's words), e.g. https://saypro.example/listings/{id}-{slug}. Mail links, structured data and
   * sitemaps use it. The default points at a local frontend's usual port (nothing serves it here).
   * @default http://127.0.0.1:3000/listings/{id}-{slug}
   */
  SITE_URL: z
    .string()
    .superRefine((v, ctx) => {
      const problem = siteUrlTemplateProblem(v);
      if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    })
    .default('http://127.0.0.1:3000/listings/{id}-{slug}'),
  /** payments subgraph port. @default 4002 */
  PAYMENTS_PORT: port.default(4002),
  /** URL the gateway calls the payments subgraph at (services mode). @default http://127.0.0.1:4002/graphql */
  PAYMENTS_URL: z.string().url().default('http://127.0.0.1:4002/graphql'),
  /** crm subgraph port. @default 4003 */
  CRM_PORT: port.default(4003),
  /** URL the gateway calls the crm subgraph at (services mode). @default http://127.0.0.1:4003/graphql */
  CRM_URL: z.string().url().default('http://127.0.0.1:4003/graphql'),
  /** HubSpot private-app access token. Unset: embedded mode runs the local HubSpot emulator. */
  HUBSPOT_ACCESS_TOKEN: z.string().min(8).optional(),
  /** Base URL of a HubSpot-compatible API, e.g. a running emulator (services mode without a token). */
  HUBSPOT_API_URL: z.string().url().optional(),
  /** Port of the in-process HubSpot emulator in embedded mode. @default 4011 */
  HUBSPOT_EMULATOR_PORT: port.default(4011),
  /** Timeout of one HubSpot request, ms. @default 10000 */
  HUBSPOT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Calls to HubSpot allowed per rolling window (your app's limit: 100 per 10 s, 190 on higher tiers); the embedded emulator enforces the same. @default 100 */
  HUBSPOT_RATE_LIMIT: z.coerce.number().int().min(1).max(10_000).default(100),
  /** Length of HubSpot's rolling rate-limit window, ms. @default 10000 */
  HUBSPOT_RATE_WINDOW_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  /** Failed attempts before a CRM contact is FAILED and waits for an admin. @default 8 */
  CRM_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(8),
  /** How often pending contacts are sent to the CRM, ms. @default 1000 */
  CRM_FLUSH_INTERVAL_MS: z.coerce.number().int().min(50).default(1000),
  /** email subgraph port. @default 4004 */
  EMAIL_PORT: port.default(4004),
  /** URL the gateway calls the email subgraph at (services mode). @default http://127.0.0.1:4004/graphql */
  EMAIL_URL: z.string().url().default('http://127.0.0.1:4004/graphql'),
  /** seo subgraph port. @default 4005 */
  SEO_PORT: port.default(4005),
  /** URL the gateway calls the seo subgraph at (services mode). @default http://127.0.0.1:4005/graphql */
  SEO_URL: z.string().url().default('http://127.0.0.1:4005/graphql'),
  /** Public base URL the gateway's sitemap is reached at: the sitemap index lists its shards under it. @default http://127.0.0.1:4000 */
  SITEMAP_BASE_URL: z.string().url().default('http://127.0.0.1:4000'),
  /** Listing URLs per sitemap shard; the protocol allows at most 50000. @default 50000 */
  SITEMAP_SHARD_SIZE: z.coerce.number().int().min(1).max(50_000).default(50_000),
  /** analytics subgraph port. @default 4006 */
  ANALYTICS_PORT: port.default(4006),
  /** URL the gateway calls the analytics subgraph at (services mode). @default http://127.0.0.1:4006/graphql */
  ANALYTICS_URL: z.string().url().default('http://127.0.0.1:4006/graphql'),
  /** A user's analytics consent until they decide: `denied` (opt-in, what GDPR/ePrivacy expect) or `granted`. @default denied */
  ANALYTICS_CONSENT_DEFAULT: z.enum(['granted', 'denied']).default('denied'),
  /** How long events of a user who has not decided yet wait for their decision (then dropped), ms; at most GA4's 72 h. @default 600000 */
  ANALYTICS_CONSENT_WAIT_MS: z.coerce
    .number()
    .int()
    .min(0)
    .max(72 * 3600 * 1000)
    .default(600_000),
  /** HMAC secret of the pseudonymous GA4 client_id/user_id derived from our user ids. @default INTERNAL_SECRET */
  ANALYTICS_ID_SECRET: secret.optional(),
  /** How often queued GA4 events are sent, ms. @default 500 */
  ANALYTICS_SEND_INTERVAL_MS: z.coerce.number().int().min(20).default(500),
  /** First delay before a GA4 request is tried again after a failure, ms; doubles per attempt. @default 1000 */
  ANALYTICS_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(1000),
  /** Longest delay between two attempts of a GA4 request, ms (retried until GA4's 72 h window closes). @default 300000 */
  ANALYTICS_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).default(300_000),
  /** GA4 web stream measurement id (G-…). With GA4_API_SECRET, events go to Google; unset: the local GA4 emulator. */
  GA4_MEASUREMENT_ID: z
    .string()
    .regex(/^G-[A-Z0-9]+$/, 'must be a GA4 measurement id (G-…)')
    .optional(),
  /** Measurement Protocol API secret of that stream; required with GA4_MEASUREMENT_ID. Never logged. */
  GA4_API_SECRET: z.string().min(8).optional(),
  /** Base URL of the Measurement Protocol. @default https://www.google-analytics.com with keys, the emulator (http://127.0.0.1:GA4_EMULATOR_PORT) without */
  GA4_ENDPOINT: z.string().url().optional(),
  /** Send to `/debug/mp/collect` (validated, never recorded) and keep its validationMessages. @default false */
  GA4_VALIDATE: bool.default('false'),
  /** Port of the GA4 Measurement Protocol emulator (`npm run start:ga4-emulator`, and embedded mode). @default 4015 */
  GA4_EMULATOR_PORT: port.default(4015),
  /** Timeout of one GA4 request, ms. @default 10000 */
  GA4_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /**
   * IndexNow key (8–128 of [A-Za-z0-9-]): set, submissions go to INDEXNOW_ENDPOINT (api.indexnow.org by
   * default) and the gateway serves it as /<key>.txt. Unset: the fixed dev key and the local emulator.
   */
  INDEXNOW_KEY: z
    .string()
    .regex(/^[A-Za-z0-9-]{8,128}$/, 'must be 8 to 128 letters, digits or dashes (the IndexNow protocol)')
    .optional(),
  /** Where IndexNow submissions are POSTed. @default https://api.indexnow.org/indexnow with INDEXNOW_KEY, the emulator (http://127.0.0.1:INDEXNOW_EMULATOR_PORT/indexnow) without */
  INDEXNOW_ENDPOINT: z.string().url().optional(),
  /** Port of the IndexNow emulator (`npm run start:indexnow-emulator`, and embedded mode). @default 4014 */
  INDEXNOW_EMULATOR_PORT: port.default(4014),
  /** How long a queued URL waits for others of its host, ms: changes within it become one POST. @default 2000 */
  INDEXNOW_BATCH_WINDOW_MS: z.coerce.number().int().min(0).max(600_000).default(2000),
  /** Timeout of one IndexNow request, ms. @default 10000 */
  INDEXNOW_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Refused submissions (400/403/422) of a URL before it is FAILED (an admin resubmits it); outages and 429s only delay. @default 10 */
  INDEXNOW_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(100).default(10),
  /** SendGrid API key (SG.…). Unset: embedded mode runs the local SendGrid emulator. */
  SENDGRID_API_KEY: z.string().regex(/^SG\./, 'must be a SendGrid API key (SG.…)').optional(),
  /** Base URL of a SendGrid-compatible API, e.g. a running emulator (services mode without a key). */
  SENDGRID_API_URL: z.string().url().optional(),
  /** Verification key of the SendGrid event webhook (base64 DER, as SendGrid shows it). Required with SENDGRID_API_KEY; read from the emulator otherwise. */
  SENDGRID_WEBHOOK_PUBLIC_KEY: z.string().min(40).optional(),
  /** Oldest accepted event webhook timestamp, seconds; older (replayed) posts are refused. @default 600 */
  SENDGRID_WEBHOOK_TOLERANCE_SECONDS: z.coerce.number().int().min(10).max(86_400).default(600),
  /** Port of the in-process SendGrid emulator in embedded mode. @default 4012 */
  SENDGRID_EMULATOR_PORT: port.default(4012),
  /** Timeout of one SendGrid request, ms. @default 10000 */
  SENDGRID_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Sender of every mail, `Name <address>` (a verified sender in SendGrid). @default SayPro <no-reply@saypro.example> */
  EMAIL_FROM: z.string().min(3).default('SayPro <no-reply@saypro.example>'),
  /** Public base URL of the gateway, used for links in mail (unsubscribe, listings). @default http://127.0.0.1:4000 */
  EMAIL_PUBLIC_URL: z.string().url().default('http://127.0.0.1:4000'),
  /** HMAC secret of unsubscribe links. @default INTERNAL_SECRET */
  EMAIL_UNSUBSCRIBE_SECRET: secret.optional(),
  /** How long an unsubscribe link in a mail works, days. @default 60 */
  EMAIL_UNSUBSCRIBE_TTL_DAYS: z.coerce.number().int().min(1).max(3650).default(60),
  /** Whether a new user receives marketing mail until they opt out. @default true */
  EMAIL_MARKETING_DEFAULT: bool.default('true'),
  /** How often queued mail is sent, ms. @default 500 */
  EMAIL_SEND_INTERVAL_MS: z.coerce.number().int().min(20).default(500),
  /** First delay before a queued mail is retried after a provider failure, ms; doubles per attempt. @default 1000 */
  EMAIL_RETRY_BASE_DELAY_MS: z.coerce.number().int().min(10).default(1000),
  /** Longest delay between two attempts of a queued mail, ms (it is retried until delivered). @default 300000 */
  EMAIL_RETRY_MAX_DELAY_MS: z.coerce.number().int().min(10).default(300_000),
  /** Stripe secret key (sk_live_… or sk_test_…). Unset: embedded mode runs the local Stripe emulator. */
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, 'must be a Stripe secret key (sk_test_… or sk_live_…)')
    .optional(),
  /** Signing secret of the Stripe webhook endpoint (whsec_…). Required with STRIPE_SECRET_KEY; generated for the emulator. */
  STRIPE_WEBHOOK_SECRET: z.string().min(8).optional(),
  /** Base URL of a Stripe-compatible API, e.g. a running emulator (services mode without a key). */
  STRIPE_API_URL: z.string().url().optional(),
  /** Port of the in-process Stripe emulator in embedded mode. @default 4010 */
  STRIPE_EMULATOR_PORT: port.default(4010),
  /** Timeout of one Stripe request, ms. @default 10000 */
  STRIPE_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** PayPal REST app client id (OAuth 2.0 client credentials). Unset: the local PayPal emulator and its own app. */
  PAYPAL_CLIENT_ID: z.string().min(8).optional(),
  /** Secret of that REST app; required with PAYPAL_CLIENT_ID. Never logged. */
  PAYPAL_CLIENT_SECRET: z.string().min(8).optional(),
  /** Base URL of PayPal's REST API. @default https://api-m.paypal.com with credentials (https://api-m.sandbox.paypal.com for the sandbox), the emulator (http://127.0.0.1:PAYPAL_EMULATOR_PORT) without */
  PAYPAL_API_URL: z.string().url().optional(),
  /** Id of the webhook subscribed to our listener URL (signatures are verified for it). Required with credentials; the emulator's own without. */
  PAYPAL_WEBHOOK_ID: z
    .string()
    .regex(/^[A-Za-z0-9]+$/, 'must be a PayPal webhook id (letters and digits)')
    .optional(),
  /** Port of the PayPal emulator (`npm run start:paypal-emulator`, and embedded mode). @default 4013 */
  PAYPAL_EMULATOR_PORT: port.default(4013),
  /** Timeout of one PayPal request, ms. @default 10000 */
  PAYPAL_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  /** Retries of a transient provider failure (same idempotency key every time). @default 3 */
  PROVIDER_RETRIES: z.coerce.number().int().min(0).max(10).default(3),
  /** First retry delay, ms (exponential with jitter after that). @default 200 */
  PROVIDER_RETRY_DELAY_MS: z.coerce.number().int().min(1).max(60_000).default(200),
  /** Consecutive transient failures that open a provider's circuit. @default 5 */
  PROVIDER_BREAKER_THRESHOLD: z.coerce.number().int().min(1).max(100).default(5),
  /** How long an open circuit fails fast, ms. @default 30000 */
  PROVIDER_BREAKER_COOLDOWN_MS: z.coerce.number().int().min(100).default(30_000),
  /** How often payments reconciles unfinished charges with the provider, ms. @default 30000 */
  PAYMENTS_RECONCILE_INTERVAL_MS: z.coerce.number().int().min(100).default(30_000),
  /** HS256 secret for viewer JWTs. Required in services mode; generated into DATA_DIR in embedded mode. */
  JWT_SECRET: secret.optional(),
  /**
   * The identity provider's JSON Web Key Set (https, or http on loopback). When set, the gateway
   * accepts only RS256/ES256 tokens signed by its keys; HS256 tokens are refused.
   */
  JWT_JWKS_URL: z.string().url().refine(isSecureUrl, 'must be an https:// URL (http only on loopback)').optional(),
  /** Clock skew tolerated on exp/nbf of viewer JWTs, seconds. @default 30 */
  JWT_CLOCK_SKEW_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** How long the gateway trusts its answer about an API key, seconds: a revoked key works at most this long after. @default 30 */
  API_KEY_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Expected `iss` claim of viewer JWTs, when set. */
  JWT_ISSUER: z.string().min(1).optional(),
  /** Expected `aud` claim of viewer JWTs, when set. */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** HMAC secret for the signed viewer header between gateway and subgraphs. Required in services mode. */
  INTERNAL_SECRET: secret.optional(),
  /** Lifetime of a signed internal viewer header, seconds. @default 60 */
  INTERNAL_TOKEN_TTL_SECONDS: z.coerce.number().int().min(5).max(3600).default(60),
  /** Calls per minute each service accepts on its `/internal/*` routes (all callers together); 0 turns the limit off. @default 600 */
  INTERNAL_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  /** Registrations and address changes naming one email address, per hour (per listings process); 0 turns the limit off. @default 5 */
  ACCOUNT_EMAIL_LIMIT_PER_HOUR: z.coerce.number().int().min(0).max(100_000).default(5),
  /** Confirmation mails (welcome, address confirmation, address-in-use notice) one address receives per hour, across every process; past it they are SUPPRESSED. 0 turns the limit off. @default 5 */
  ACCOUNT_MAIL_LIMIT_PER_RECIPIENT_PER_HOUR: z.coerce.number().int().min(0).max(100_000).default(5),
  /** Posting fee for a listing, in minor units of POSTING_FEE_CURRENCY. 0 makes listings free (ACTIVE on creation). @default 1000 */
  POSTING_FEE_AMOUNT: z.coerce.number().int().min(0).default(1000),
  /** ISO-4217 currency of the posting fee. @default USD */
  POSTING_FEE_CURRENCY: z
    .string()
    .regex(/^[A-Z]{3}$/, 'must be an ISO-4217 code such as USD')
    .default('USD'),
  /** Per-category posting fees overriding POSTING_FEE_AMOUNT, as JSON: {"JOBS":0,"VEHICLES":2500}. @default {} */
  POSTING_FEES: listingCategoryFees.default('{}'),
  /** Days an ACTIVE listing stays up before it expires. @default 30 */
  LISTING_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  /** Largest accepted HTTP request body, bytes. @default 1048576 */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1_048_576),
  /** Milliseconds to let in-flight requests finish on SIGTERM before closing. @default 10000 */
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).default(10_000),
  /** Extra origins allowed by CORS, comma separated. Development also admits the hosted Apollo Sandbox. */
  CORS_ORIGINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  /** Serve the Apollo Sandbox landing page (on in development). */
  SANDBOX: bool.optional(),
  /** Deepest field nesting the gateway runs (QUERY_TOO_DEEP beyond). @default 10 */
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().min(1).max(100).default(10),
  /** Largest estimated operation cost: each field 1, times the page sizes (first/limit) of the lists above it (QUERY_TOO_COSTLY beyond). @default 10000 */
  GRAPHQL_MAX_COST: z.coerce.number().int().min(1).default(10_000),
  /** Page size assumed for a paginated field without `first`, and for a list without page arguments. @default 20 */
  GRAPHQL_DEFAULT_LIST_SIZE: z.coerce.number().int().min(1).max(1000).default(20),
  /** Most aliased fields in one operation (TOO_MANY_ALIASES beyond). @default 15 */
  GRAPHQL_MAX_ALIASES: z.coerce.number().int().min(0).max(1000).default(15),
  /** Most directives in one operation, counted at every use (TOO_MANY_DIRECTIVES beyond). @default 50 */
  GRAPHQL_MAX_DIRECTIVES: z.coerce.number().int().min(0).max(1000).default(50),
  /** Most lexical tokens in one document; parsing stops there (TOO_MANY_TOKENS). @default 2000 */
  GRAPHQL_MAX_TOKENS: z.coerce.number().int().min(50).max(100_000).default(2000),
  /** Most operations in one batched (JSON array) request; 1 turns batching off (BATCH_TOO_LARGE beyond). @default 10 */
  GRAPHQL_MAX_BATCH: z.coerce.number().int().min(1).max(100).default(10),
  /** Accept only the operations of schema/persisted-operations.json (the generated client's manifest), as text or by APQ hash. @default false */
  GRAPHQL_PERSISTED_ONLY: bool.default('false'),
  /** Requests per minute (and burst) per client address for anonymous callers and failed sign-ins; 0 turns it off. @default 300 */
  RATE_LIMIT_PER_IP: z.coerce.number().int().min(0).default(300),
  /** Requests per minute (and burst) per signed-in viewer or API key; 0 turns it off. @default 600 */
  RATE_LIMIT_PER_VIEWER: z.coerce.number().int().min(0).default(600),
  /** Provider webhook deliveries per minute (and burst) per client address; they retry on 429. 0 turns it off. @default 1200 */
  /** Redis for rate limits shared by every gateway instance (redis://host:6379); unset: each process counts its own. */
  RATE_LIMIT_REDIS_URL: z.string().url().optional(),
  RATE_LIMIT_WEBHOOKS_PER_IP: z.coerce.number().int().min(0).default(1200),
  /** Health checks (/health/live, /health/ready) per minute per client address; readiness answers are also cached 1 s. 0 turns it off. @default 600 */
  RATE_LIMIT_HEALTH_PER_IP: z.coerce.number().int().min(0).default(600),
  /** What executes operations behind the gateway's front door: `apollo` (@apollo/gateway) or `hive` (Hive Gateway's runtime with its Rust query planner). @default apollo */
  GATEWAY_ENGINE: z.enum(['apollo', 'hive']).default('apollo'),
  /** Share one subgraph fetch between identical queries in flight at once (same viewer, same body); the hive engine has it, apollo does not. @default true */
  GATEWAY_DEDUPE: bool.default('true'),
  /** Prometheus metrics: `GET /metrics` on each subgraph's port and on the gateway's metrics listener. @default true */
  METRICS_ENABLED: bool.default('true'),
  /** When set, `/metrics` answers only `Authorization: Bearer <token>` (401 otherwise). */
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /** The gateway's metrics listener (never its public port); in embedded mode it serves every service's metrics. 0 picks a free port. @default 9464 */
  METRICS_PORT: port.default(9464),
  /** Address the gateway's metrics listener binds; loopback keeps it off the internet. @default 127.0.0.1 */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  /** The supergraph the gateway serves; each subgraph's URL is its @join__graph(url:) unless <NAME>_URL is set. @default schema/supergraph.graphql */
  SUPERGRAPH_PATH: z.string().min(1).optional(),
  /** Keep-alive connections the gateway holds open to each subgraph. @default 64 */
  SUBGRAPH_CONNECTIONS: z.coerce.number().int().min(1).max(1024).default(64),
  /** PEM certificate chain file; with TLS_KEY_FILE the gateway serves HTTPS (and HSTS). */
  TLS_CERT_FILE: z.string().min(1).optional(),
  /** PEM private key file of TLS_CERT_FILE. */
  TLS_KEY_FILE: z.string().min(1).optional(),
  /** Proxies in front of the gateway that append to X-Forwarded-For; 0 ignores the header and uses the socket address. @default 0 */
  TRUST_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
});

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** The variable names the schema knows; `.env.example` must list exactly these. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as Array<keyof Config>;
/** Every port the embedded stack listens on (the metrics listener aside): tests and benches give each a free one. */
export const STACK_PORT_KEYS = CONFIG_KEYS.filter((key) => key.endsWith('_PORT') && key !== 'METRICS_PORT');

/**
 * Reads `.env` (or ENV_FILE) into `env` at start: each `KEY=value` line sets KEY unless the
 * environment already has it, so a variable given on the command line always wins. A missing file
 * is fine (the defaults need none). Returns the keys it set.
 */
export function loadEnvFile(env: NodeJS.ProcessEnv = process.env): string[] {
  const file = env.ENV_FILE ?? path.join(projectRoot(), '.env');
  if (!file) return [];
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ConfigError([`ENV_FILE: cannot read ${file}: ${(err as Error).message}`]);
  }
  const set: string[] = [];
  for (const [key, value] of Object.entries(parseEnv(text))) {
    if (env[key] !== undefined) continue;
    env[key] = value;
    set.push(key);
  }
  return set;
}

/**
 * A start-up failure a person can fix, in one line without a stack trace: a port that is taken (or
 * not ours to open) names the variables set to it. Null for anything else.
 */
export function startupProblem(err: unknown, config: object): string | null {
  const e = err as NodeJS.ErrnoException & { port?: number; address?: string };
  if (e?.code !== 'EADDRINUSE' && e?.code !== 'EACCES') return null;
  const variables = Object.entries(config)
    .filter(([key, value]) => key.endsWith('_PORT') && value === e.port)
    .map(([key]) => key);
  const fix = variables.length
    ? `set ${variables.join(' or ')} to a free port (in the environment or .env; 0 picks one)`
    : 'choose another port';
  const where = `${e.address ?? '127.0.0.1'}:${e.port}`;
  return e.code === 'EADDRINUSE'
    ? `Port ${where} is already in use (another SayPro Graph, or another program): stop it, or ${fix}.`
    : `Port ${where} cannot be opened by this user: ${fix}, above 1023.`;
}

/**
 * Parses the environment once. Empty strings count as unset, so `FOO=` in a `.env` file means the default.
 * Throws ConfigError naming every bad variable at once.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string> = {};
  for (const key of CONFIG_KEYS) {
    const value = env[key]?.trim();
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = configSchema
    .refine((c) => Boolean(c.TLS_CERT_FILE) === Boolean(c.TLS_KEY_FILE), {
      message: 'set both TLS_CERT_FILE and TLS_KEY_FILE, or neither',
      path: ['TLS_KEY_FILE'],
    })
    // A real provider key only ever travels over HTTPS (plain HTTP only to a loopback test double).
    .refine((c) => !c.STRIPE_SECRET_KEY || !c.STRIPE_API_URL || isSecureUrl(c.STRIPE_API_URL), {
      message: 'must be an https:// URL when STRIPE_SECRET_KEY is set (http only on loopback)',
      path: ['STRIPE_API_URL'],
    })
    .refine((c) => Boolean(c.PAYPAL_CLIENT_ID) === Boolean(c.PAYPAL_CLIENT_SECRET), {
      message: 'set both PAYPAL_CLIENT_ID and PAYPAL_CLIENT_SECRET, or neither',
      path: ['PAYPAL_CLIENT_SECRET'],
    })
    .refine((c) => !c.PAYPAL_CLIENT_ID || !c.PAYPAL_API_URL || isSecureUrl(c.PAYPAL_API_URL), {
      message: 'must be an https:// URL when PAYPAL_CLIENT_ID is set (http only on loopback)',
      path: ['PAYPAL_API_URL'],
    })
    .refine((c) => !c.HUBSPOT_ACCESS_TOKEN || !c.HUBSPOT_API_URL || isSecureUrl(c.HUBSPOT_API_URL), {
      message: 'must be an https:// URL when HUBSPOT_ACCESS_TOKEN is set (http only on loopback)',
      path: ['HUBSPOT_API_URL'],
    })
    .refine((c) => !c.INDEXNOW_KEY || !c.INDEXNOW_ENDPOINT || isSecureUrl(c.INDEXNOW_ENDPOINT), {
      message: 'must be an https:// URL when INDEXNOW_KEY is set (http only on loopback)',
      path: ['INDEXNOW_ENDPOINT'],
    })
    // Without INDEXNOW_KEY the fixed dev key is used, which anyone can read in this repository: it
    // may prove our host to a local emulator only, never to a search engine.
    .refine((c) => Boolean(c.INDEXNOW_KEY) || !c.INDEXNOW_ENDPOINT || isLoopbackUrl(c.INDEXNOW_ENDPOINT), {
      message: 'set INDEXNOW_KEY to submit anywhere but a local emulator (the dev key is public)',
      path: ['INDEXNOW_ENDPOINT'],
    })
    .refine((c) => !c.SENDGRID_API_KEY || !c.SENDGRID_API_URL || isSecureUrl(c.SENDGRID_API_URL), {
      message: 'must be an https:// URL when SENDGRID_API_KEY is set (http only on loopback)',
      path: ['SENDGRID_API_URL'],
    })
    .refine((c) => Boolean(c.GA4_MEASUREMENT_ID) === Boolean(c.GA4_API_SECRET), {
      message: 'set both GA4_MEASUREMENT_ID and GA4_API_SECRET, or neither',
      path: ['GA4_API_SECRET'],
    })
    .refine((c) => !c.GA4_API_SECRET || !c.GA4_ENDPOINT || isSecureUrl(c.GA4_ENDPOINT), {
      message: 'must be an https:// URL when GA4_API_SECRET is set (http only on loopback)',
      path: ['GA4_ENDPOINT'],
    })
    .safeParse(input);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  return result.data;
}

/** The gateway's certificate and key when TLS_CERT_FILE and TLS_KEY_FILE are set (read once, at start). */
export function tlsFromConfig(
  config: Pick<Config, 'TLS_CERT_FILE' | 'TLS_KEY_FILE'>,
): { cert: Buffer; key: Buffer } | undefined {
  if (!config.TLS_CERT_FILE || !config.TLS_KEY_FILE) return undefined;
  return { cert: fs.readFileSync(config.TLS_CERT_FILE), key: fs.readFileSync(config.TLS_KEY_FILE) };
}

/** Secrets a running service needs; services mode must configure them, embedded mode generates them. */
export function requireSecrets(config: Config, names: Array<'JWT_SECRET' | 'INTERNAL_SECRET'>): void {
  const missing = names.filter((n) => !config[n]);
  if (missing.length) {
    throw new ConfigError(missing.map((n) => `${n}: required when a service runs on its own (at least 32 characters)`));
  }
}

export type FeeConfig = Pick<Config, 'POSTING_FEE_AMOUNT' | 'POSTING_FEE_CURRENCY' | 'POSTING_FEES'>;

/** The posting fee for a listing in `category`: the per-category override, else the default. */
export function postingFee(config: FeeConfig, category: string): { amount: number; currency: string } {
  return { amount: config.POSTING_FEES[category] ?? config.POSTING_FEE_AMOUNT, currency: config.POSTING_FEE_CURRENCY };
}

/** The REST app and webhook id the PayPal emulator knows (embedded mode, tests, services mode without credentials). */
export const PAYPAL_EMULATOR_APP = {
  clientId: 'emulator-client-id',
  clientSecret: 'emulator-client-secret',
  webhookId: '8PT597110X687430LEMULATOR',
} as const;

export interface PayPalConnection {
  clientId: string;
  clientSecret: string;
  apiUrl: string;
  /** Null when credentials are set without PAYPAL_WEBHOOK_ID: webhooks cannot be verified then. */
  webhookId: string | null;
  /** True when it is the emulator's app (no credentials configured). */
  emulated: boolean;
}

/** Where PayPal calls go: PayPal itself with credentials, else the emulator on PAYPAL_EMULATOR_PORT (or PAYPAL_API_URL). */
export function paypalConnection(
  config: Pick<
    Config,
    'PAYPAL_CLIENT_ID' | 'PAYPAL_CLIENT_SECRET' | 'PAYPAL_API_URL' | 'PAYPAL_WEBHOOK_ID' | 'PAYPAL_EMULATOR_PORT'
  >,
): PayPalConnection {
  if (config.PAYPAL_CLIENT_ID && config.PAYPAL_CLIENT_SECRET) {
    return {
      clientId: config.PAYPAL_CLIENT_ID,
      clientSecret: config.PAYPAL_CLIENT_SECRET,
      apiUrl: config.PAYPAL_API_URL ?? 'https://api-m.paypal.com',
      webhookId: config.PAYPAL_WEBHOOK_ID ?? null,
      emulated: false,
    };
  }
  return {
    clientId: PAYPAL_EMULATOR_APP.clientId,
    clientSecret: PAYPAL_EMULATOR_APP.clientSecret,
    apiUrl: config.PAYPAL_API_URL ?? `http://127.0.0.1:${config.PAYPAL_EMULATOR_PORT}`,
    webhookId: config.PAYPAL_WEBHOOK_ID ?? PAYPAL_EMULATOR_APP.webhookId,
    emulated: true,
  };
}

/** The stream the GA4 emulator accepts when no keys are configured. */
export const GA4_EMULATOR_STREAM = { measurementId: 'G-EMULATOR', apiSecret: 'emulator-api-secret' } as const;

export interface Ga4Connection {
  measurementId: string;
  apiSecret: string;
  endpoint: string;
  /** True when it is the emulator's stream (no keys configured). */
  emulated: boolean;
}

/** Where GA4 events go: Google with keys (GA4_ENDPOINT overrides), else the emulator on GA4_EMULATOR_PORT (or GA4_ENDPOINT). */
export function ga4Connection(
  config: Pick<Config, 'GA4_MEASUREMENT_ID' | 'GA4_API_SECRET' | 'GA4_ENDPOINT' | 'GA4_EMULATOR_PORT'>,
): Ga4Connection {
  if (config.GA4_MEASUREMENT_ID && config.GA4_API_SECRET)
    return {
      measurementId: config.GA4_MEASUREMENT_ID,
      apiSecret: config.GA4_API_SECRET,
      endpoint: config.GA4_ENDPOINT ?? 'https://www.google-analytics.com',
      emulated: false,
    };
  return {
    ...GA4_EMULATOR_STREAM,
    endpoint: config.GA4_ENDPOINT ?? `http://127.0.0.1:${config.GA4_EMULATOR_PORT}`,
    emulated: true,
  };
}

/**
 * The IndexNow key the emulator and a keyless setup use: public by design (the key file is public
 * anyway) and fixed, so it is the same across restarts and documented in docs/seo.md.
 */
export const INDEXNOW_DEV_KEY = 'saypro-dev-indexnow-key';

/** Where IndexNow submissions go: the configured endpoint (api.indexnow.org by default) with a key, else the emulator. */
export function indexNowConnection(
  config: Pick<Config, 'INDEXNOW_KEY' | 'INDEXNOW_ENDPOINT' | 'INDEXNOW_EMULATOR_PORT'>,
): { key: string; endpoint: string; emulated: boolean } {
  if (config.INDEXNOW_KEY)
    return {
      key: config.INDEXNOW_KEY,
      endpoint: config.INDEXNOW_ENDPOINT ?? 'https://api.indexnow.org/indexnow',
      emulated: false,
    };
  return {
    key: INDEXNOW_DEV_KEY,
    endpoint: config.INDEXNOW_ENDPOINT ?? `http://127.0.0.1:${config.INDEXNOW_EMULATOR_PORT}/indexnow`,
    emulated: true,
  };
}
